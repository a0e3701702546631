#!/usr/bin/env python3
# Atlas — scripts
# SPDX-License-Identifier: Apache-2.0
#
# Writes docs/api/openapi.yaml from docs/api/openapi.json (the document GET /openapi.json
# serves), keeping key order. `make openapi-yaml`; Tests/AtlasTests/DeliveryTests.swift checks that
# the two files agree.
# Usage: scripts/openapi-yaml.py [--check]
import json
import pathlib
import sys

import yaml

root = pathlib.Path(__file__).resolve().parent.parent
source = root / "docs/api/openapi.json"
target = root / "docs/api/openapi.yaml"


class Dumper(yaml.SafeDumper):
    pass


def represent_str(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


Dumper.add_representer(str, represent_str)
# JSON has no aliases; repeated objects are written out each time.
Dumper.ignore_aliases = lambda self, data: True

document = json.loads(source.read_text(encoding="utf-8"))
header = "# Generated from docs/api/openapi.json by scripts/openapi-yaml.py; edit the JSON file.\n"
text = header + yaml.dump(document, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)

if "--check" in sys.argv[1:]:
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        print("docs/api/openapi.yaml is out of date: run scripts/openapi-yaml.py", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
target.write_text(text, encoding="utf-8")
