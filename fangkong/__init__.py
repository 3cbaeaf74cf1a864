"""Fangkong (防控): outbreak prevention and control command platform."""
