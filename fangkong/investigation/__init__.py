"""Epidemiological investigation (流调排查): venues now; cases, trajectories and contacts later."""
