#!/usr/bin/python3
"""Exports the seeded VGG16-BN-shaped fixture network of tools/make_fixtures.py to ONNX
(BatchNormalization nodes kept), so that the ONNX importer can be checked against the same
PyTorch reference maps (test/fixtures/vgg16bn-small/expected.json).

  /usr/bin/python3 tools/export_fixture_onnx.py OUT.onnx
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures  # noqa: E402
from make_onnx_fixtures import export  # noqa: E402

torch.set_num_threads(1)
model = make_fixtures.build_model()
export(model, torch.zeros(1, 3, make_fixtures.SIZE, make_fixtures.SIZE), sys.argv[1], preserve_bn=True)
