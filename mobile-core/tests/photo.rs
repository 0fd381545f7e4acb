//! The photo pipeline on real images made here: EXIF orientation, capture time and GPS written
//! with a real EXIF writer, PNG and WebP inputs, a decompression bomb, a truncated JPEG, a text
//! file, and the stored copy parsed again to prove it carries no metadata.
// Test helpers build fixtures: a failure there is a failed test with a location.
#![allow(clippy::unwrap_used)]

use std::io::Cursor;

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use gridwork_mobile_core::photo::{Limits, capture_of, process, thumbnail};
use image::{ImageFormat, Rgb, RgbImage};

/// Left half red, right half blue.
fn two_tone(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, _| if x < w / 2 { Rgb([220, 20, 20]) } else { Rgb([20, 20, 220]) })
}

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn rational(v: f64) -> Rational {
    Rational { num: (v * 1000.0).round() as u32, denom: 1000 }
}

/// A JPEG with an EXIF block: orientation, DateTimeOriginal and GPS position.
fn jpeg_with_exif(img: &RgbImage, orientation: u16, lat: f64, lng: f64) -> Vec<u8> {
    let dms = |v: f64| {
        let d = v.abs().trunc();
        let m = ((v.abs() - d) * 60.0).trunc();
        let s = (v.abs() - d - m / 60.0) * 3600.0;
        Value::Rational(vec![rational(d), rational(m), rational(s)])
    };
    let fields = [
        Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![orientation]) },
        Field {
            tag: Tag::DateTimeOriginal,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![b"2026:11:30 09:15:42".to_vec()]),
        },
        Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"N".to_vec()]) },
        Field { tag: Tag::GPSLatitude, ifd_num: In::PRIMARY, value: dms(lat) },
        Field { tag: Tag::GPSLongitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"E".to_vec()]) },
        Field { tag: Tag::GPSLongitude, ifd_num: In::PRIMARY, value: dms(lng) },
        Field { tag: Tag::Make, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"TestPhone".to_vec()]) },
    ];
    let mut writer = Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    let plain = encode(img, ImageFormat::Jpeg);
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&u16::try_from(tiff.len() + 8).unwrap().to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

fn is_red(p: &Rgb<u8>) -> bool {
    p[0] > 150 && p[2] < 100
}

fn is_blue(p: &Rgb<u8>) -> bool {
    p[2] > 150 && p[0] < 100
}

#[test]
fn orientation_is_applied_capture_is_read_and_nothing_of_it_is_kept() {
    let original = jpeg_with_exif(&two_tone(400, 200), 6, 30.582_5, 114.274_0);
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

#[test]
fn big_photos_shrink_and_png_and_webp_are_accepted() {
    let p = process(&encode(&two_tone(5000, 3000), ImageFormat::Png), &Limits::default()).unwrap();
    assert_eq!((p.width, p.height, p.source_format), (2048, 1229, "png"));
    assert_eq!(p.capture.orientation, 1);
    assert!(p.capture.gps.is_none() && p.capture.taken_at.is_none());
    let w = process(&encode(&two_tone(64, 48), ImageFormat::WebP), &Limits::default()).unwrap();
    assert_eq!((w.width, w.height, w.source_format), (64, 48, "webp"));
}

/// Patches a PNG's IHDR to claim other dimensions (and fixes its CRC).
fn claim_dimensions(png: &mut [u8], w: u32, h: u32) {
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let mut crc = 0xFFFF_FFFFu32;
    for &b in &png[12..29] {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    png[29..33].copy_from_slice(&(!crc).to_be_bytes());
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
    let exif_jpeg = jpeg_with_exif(&two_tone(300, 200), 1, 30.0, 114.0);
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
