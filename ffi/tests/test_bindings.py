"""Loads the generated Python bindings and calls the core through them."""
import sys
import unittest

sys.path.insert(0, sys.argv.pop(1) if len(sys.argv) > 1 else ".")
import gridwork_ffi as core  # noqa: E402


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


if __name__ == "__main__":
    unittest.main()
