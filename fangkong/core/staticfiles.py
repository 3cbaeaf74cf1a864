"""Static files: collect only the vendor builds the pages load.

Swagger UI (``node_modules/swagger-ui-dist``): its bundle and stylesheet only.

``node_modules/echarts/dist`` holds 46 MB of builds (ESM, CommonJS, source maps,
extensions); the pages load ``echarts.min.js`` only. Skipping the rest makes the
first ``collectstatic`` (and its compression) take seconds instead of minutes.
"""

from django.contrib.staticfiles.apps import StaticFilesConfig


class FangkongStaticFilesConfig(StaticFilesConfig):
    ignore_patterns = [
        *StaticFilesConfig.ignore_patterns,
        "*.js.map",  # (swagger-ui.css names its map: that one is kept)
        "echarts.js",
        "echarts.common*",
        "echarts.esm*",
        "echarts.simple*",
        "extension",
        "package.json",
        "swagger-ui.js",
        "swagger-ui-es-bundle*",
        "swagger-ui-standalone-preset.js",
        "index.*",
        "oauth2-redirect.*",
        "absolute-path.js",
        "swagger-initializer.js",
        "log.*",
        "*.md",
        "*.LICENSE.txt",
    ]
