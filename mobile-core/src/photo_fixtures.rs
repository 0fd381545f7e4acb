//! Real images for tests and benchmarks (feature `fixtures`): encoded by the `image` crate, with
//! EXIF written by a real EXIF writer, so the pipeline is tested on what cameras produce.
// Fixture builders run only in tests and benchmarks; encoding an in-memory image cannot fail.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation, clippy::cast_sign_loss)]

use std::io::Cursor;

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use image::{ImageFormat, Rgb, RgbImage};

/// Left half red, right half blue (so orientation is visible in the output).
pub fn two_tone(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, _| if x < w / 2 { Rgb([220, 20, 20]) } else { Rgb([20, 20, 220]) })
}

pub fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn rational(v: f64) -> Rational {
    Rational { num: (v * 1000.0).round() as u32, denom: 1000 }
}

/// What a camera writes into a photo.
#[derive(Debug, Clone, Copy)]
pub struct CameraExif<'a> {
    pub orientation: u16,
    /// `YYYY:MM:DD HH:MM:SS`, the camera's local time.
    pub taken_at: &'a str,
    /// (lat, lng), northern and eastern hemispheres.
    pub gps: Option<(f64, f64)>,
}

/// A JPEG with an EXIF block: orientation, DateTimeOriginal, GPS position and the camera make.
pub fn jpeg_with_exif(img: &RgbImage, exif: &CameraExif<'_>) -> Vec<u8> {
    let dms = |v: f64| {
        let d = v.abs().trunc();
        let m = ((v.abs() - d) * 60.0).trunc();
        let s = (v.abs() - d - m / 60.0) * 3600.0;
        Value::Rational(vec![rational(d), rational(m), rational(s)])
    };
    let mut fields = vec![
        Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![exif.orientation]) },
        Field {
            tag: Tag::DateTimeOriginal,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![exif.taken_at.as_bytes().to_vec()]),
        },
        Field { tag: Tag::Make, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"TestPhone".to_vec()]) },
    ];
    if let Some((lat, lng)) = exif.gps {
        fields.extend([
            Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"N".to_vec()]) },
            Field { tag: Tag::GPSLatitude, ifd_num: In::PRIMARY, value: dms(lat) },
            Field { tag: Tag::GPSLongitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"E".to_vec()]) },
            Field { tag: Tag::GPSLongitude, ifd_num: In::PRIMARY, value: dms(lng) },
        ]);
    }
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

/// Patches a PNG's IHDR to claim other dimensions (and fixes its CRC): a decompression bomb.
pub fn claim_dimensions(png: &mut [u8], w: u32, h: u32) {
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

/// A 12-megapixel camera JPEG (4000 × 3000): smooth gradients plus per-pixel noise, roughly a
/// photo's entropy, so it compresses like one.
pub fn camera_photo() -> Vec<u8> {
    camera_photo_seeded(0)
}

/// Like [`camera_photo`], a different photo per seed.
pub fn camera_photo_seeded(seed: u64) -> Vec<u8> {
    let mut seed = 0x2545_F491_4F6C_DD1Du64 ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let img = RgbImage::from_fn(4000, 3000, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = (seed & 31) as u8;
        Rgb([(x / 16) as u8 ^ n, (y / 12) as u8 ^ n, ((x + y) / 28) as u8 ^ n])
    });
    encode(&img, ImageFormat::Jpeg)
}
