//! The photo pipeline on real images made here: EXIF orientation, capture time and GPS written
//! with a real EXIF writer, PNG and WebP inputs, a decompression bomb, a truncated JPEG, a text
//! file, and the stored copy parsed again to prove it carries no metadata.
// Test helpers build fixtures: a failure there is a failed test with a location.
#![allow(clippy::unwrap_used)]

use std::io::Cursor;

use gridwork_mobile_core::photo::{Limits, capture_of, process, thumbnail};
use gridwork_mobile_core::photo_fixtures::{
    CameraExif, TiffLayout, claim_dimensions, encode, jpeg_with_exif, jpeg_with_tiff_layout, two_tone,
};
use image::{ImageFormat, Rgb};

fn camera(orientation: u16, lat: f64, lng: f64) -> CameraExif<'static> {
    CameraExif { orientation, taken_at: "2026:11:30 09:15:42", gps: Some((lat, lng)) }
}

fn is_red(p: &Rgb<u8>) -> bool {
    p[0] > 150 && p[2] < 100
}

fn is_blue(p: &Rgb<u8>) -> bool {
    p[2] > 150 && p[0] < 100
}

#[test]
fn orientation_is_applied_capture_is_read_and_nothing_of_it_is_kept() {
    let original = jpeg_with_exif(&two_tone(400, 200), &camera(6, 30.582_5, 114.274_0));
    let c = capture_of(&original);
    assert_eq!(c.orientation, 6);
    assert_eq!(c.taken_at.as_deref(), Some("2026-11-30 09:15:42"));
    let (lat, lng) = c.gps.unwrap();
    assert!((lat - 30.5825).abs() < 1e-5 && (lng - 114.274).abs() < 1e-5, "{lat} {lng}");

    let p = process(&original, &Limits::default()).unwrap();
    // Orientation 6: turned 90° clockwise, so the left (red) half is now on top.
    assert_eq!((p.width, p.height), (200, 400));
    let out = image::load_from_memory(&p.jpeg).unwrap().to_rgb8();
    assert!(is_red(out.get_pixel(100, 50)) && is_blue(out.get_pixel(100, 350)));
    assert_eq!(p.capture, c);
    assert_eq!(p.source_format, "jpeg");
    // The stored copy carries no EXIF at all (parsed, not just searched for).
    assert!(exif::Reader::new().read_from_container(&mut Cursor::new(&p.jpeg)).is_err());
    assert!(!p.jpeg.windows(4).any(|w| w == b"Exif") && !p.jpeg.windows(9).any(|w| w == b"TestPhone"));
    // The same photo again: the same bytes and hash.
    let again = process(&original, &Limits::default()).unwrap();
    assert_eq!((again.sha256.len(), &again.sha256), (64, &p.sha256));
    let thumb = thumbnail(&p.jpeg, 320).unwrap();
    let t = image::load_from_memory(&thumb).unwrap();
    assert_eq!((t.width(), t.height()), (160, 320));
}

/// The same camera data written by two independent writers, in both byte orders, with and
/// without the sub-IFD quirk (a non-zero next-IFD offset after the EXIF and GPS IFDs) that
/// strict readers refuse: capture time, place and orientation are read from every one.
#[test]
fn capture_data_is_read_whatever_wrote_it() {
    let cam = camera(8, 30.582_5, 114.274_0);
    let mut files = vec![("kamadak writer", jpeg_with_exif(&two_tone(120, 80), &cam))];
    for big_endian in [false, true] {
        for sub_ifd_next_pointer in [false, true] {
            let layout = TiffLayout { big_endian, sub_ifd_next_pointer };
            files.push(("byte-level writer", jpeg_with_tiff_layout(&two_tone(120, 80), &cam, layout)));
        }
    }
    let quirky =
        jpeg_with_tiff_layout(&two_tone(120, 80), &cam, TiffLayout { big_endian: false, sub_ifd_next_pointer: true });
    // The quirk is real: a strict read of that file fails.
    assert!(exif::Reader::new().read_from_container(&mut Cursor::new(&quirky)).is_err());
    for (i, (writer, file)) in files.iter().enumerate() {
        let c = capture_of(file);
        assert_eq!(c.orientation, 8, "file {i} ({writer})");
        assert_eq!(c.taken_at.as_deref(), Some("2026-11-30 09:15:42"), "file {i} ({writer})");
        let (lat, lng) = c.gps.unwrap_or_else(|| panic!("file {i} ({writer}): no GPS"));
        assert!((lat - 30.5825).abs() < 1e-5 && (lng - 114.274).abs() < 1e-5, "file {i}: {lat} {lng}");
    }
}

#[test]
fn big_photos_shrink_and_png_and_webp_are_accepted() {
    let p = process(&encode(&two_tone(5000, 3000), ImageFormat::Png), &Limits::default()).unwrap();
    assert_eq!((p.width, p.height, p.source_format), (2048, 1229, "png"));
    assert_eq!(p.capture.orientation, 1);
    assert!(p.capture.gps.is_none() && p.capture.taken_at.is_none());
    let w = process(&encode(&two_tone(64, 48), ImageFormat::WebP), &Limits::default()).unwrap();
    assert_eq!((w.width, w.height, w.source_format), (64, 48, "webp"));
}

#[test]
fn bad_files_are_refused_with_stable_codes() {
    let code = |bytes: &[u8]| process(bytes, &Limits::default()).unwrap_err().code;
    // A decompression bomb: a small file claiming 100,000 × 100,000 pixels, refused from the header.
    let mut bomb = encode(&two_tone(8, 8), ImageFormat::Png);
    claim_dimensions(&mut bomb, 100_000, 100_000);
    let t = std::time::Instant::now();
    assert_eq!(code(&bomb), "too_many_pixels");
    assert!(t.elapsed() < std::time::Duration::from_millis(200));
    // A truncated JPEG, a text file named photo.jpg, an empty file, a GIF, a huge file.
    let jpeg = encode(&two_tone(300, 200), ImageFormat::Jpeg);
    assert_eq!(code(&jpeg[..jpeg.len() / 2]), "corrupt");
    let exif_jpeg = jpeg_with_exif(&two_tone(300, 200), &camera(1, 30.0, 114.0));
    assert_eq!(code(&exif_jpeg[..exif_jpeg.len() - 300]), "corrupt");
    assert_eq!(code(b"this is not a photo, whatever its name says"), "not_an_image");
    assert_eq!(code(b""), "not_an_image");
    assert_eq!(code(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "unsupported_format");
    let small = Limits { max_bytes: 1000, ..Limits::default() };
    assert_eq!(process(&jpeg, &small).unwrap_err().code, "too_large");
    // A corrupt PNG body.
    let mut png = encode(&two_tone(64, 64), ImageFormat::Png);
    let n = png.len();
    png[n / 2..n / 2 + 16].fill(0xAB);
    assert_eq!(code(&png), "corrupt");
}
