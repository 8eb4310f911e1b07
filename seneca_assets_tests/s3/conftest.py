"""The S3 tests' server: one SeaweedFS for the session (`seneca_assets_tests/seaweed.py`)."""

from seneca_assets_tests.seaweed import s3_env, s3_lake, seaweed_server  # noqa: F401
