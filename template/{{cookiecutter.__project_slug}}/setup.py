"""The compiled part of {{ cookiecutter.__project_slug }}; everything else is in pyproject.toml.

``python -m build`` compiles it for this machine (a C compiler and Python's headers are
needed); the release workflow builds a wheel per platform with cibuildwheel.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "{{ cookiecutter.__package_name }}._native",
            sources=["src/{{ cookiecutter.__package_name }}/_native.c"],
        )
    ]
)
