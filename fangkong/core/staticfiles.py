"""Static files: collect only the vendor builds the pages load.

``node_modules/echarts/dist`` holds 46 MB of builds (ESM, CommonJS, source maps,
extensions); the pages load ``echarts.min.js`` only. Skipping the rest makes the
first ``collectstatic`` (and its compression) take seconds instead of minutes.
"""

from django.contrib.staticfiles.apps import StaticFilesConfig


class FangkongStaticFilesConfig(StaticFilesConfig):
    ignore_patterns = [
        *StaticFilesConfig.ignore_patterns,
        "*.map",
        "echarts.js",
        "echarts.common*",
        "echarts.esm*",
        "echarts.simple*",
        "extension",
        "package.json",
    ]
