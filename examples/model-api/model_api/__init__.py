"""The example model API mlstack's model-serving module runs by default (see README.md)."""
