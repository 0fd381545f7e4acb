"""Loads the generated Python bindings and calls the core through them."""
import hashlib
import os
import sys
import unittest

sys.path.insert(0, sys.argv.pop(1) if len(sys.argv) > 1 else ".")
import gridwork_ffi as core  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from images import png  # noqa: E402


class BindingsTest(unittest.TestCase):
    def test_version_and_names(self):
        self.assertTrue(core.core_version())
        self.assertEqual(core.area_level_names()[0], "city")
        self.assertIn("grid_worker", core.role_names())

    def test_validation_errors_carry_field_and_code(self):
        self.assertEqual(core.normalize_username(" Wang.Li "), "wang.li")
        with self.assertRaises(core.GridworkError.Validation) as ctx:
            core.normalize_area_code("not a code!")
        self.assertEqual(ctx.exception.field, "area_code")
        self.assertEqual(ctx.exception.code, "invalid_format")
        with self.assertRaises(core.GridworkError.Validation):
            core.check_password("short")


class PhotoTest(unittest.TestCase):
    def test_a_photo_comes_back_as_a_hashed_jpeg(self):
        out = core.process_photo(png(3000, 1000))
        self.assertEqual((out.width, out.height, out.source_format), (2048, 683, "png"))
        self.assertEqual(bytes(out.jpeg[:2]), b"\xff\xd8")
        self.assertEqual(out.sha256, hashlib.sha256(bytes(out.jpeg)).hexdigest())
        self.assertIsNone(out.lat)
        self.assertEqual(out.orientation, 1)

    def test_not_a_photo_is_refused_with_a_code(self):
        with self.assertRaises(core.GridworkError.Validation) as ctx:
            core.process_photo(b"plain text named photo.jpg")
        self.assertEqual((ctx.exception.field, ctx.exception.code), ("photo", "not_an_image"))


if __name__ == "__main__":
    unittest.main()
