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
    with_tiff(img, &tiff.into_inner())
}

/// A JPEG whose APP1 segment carries `tiff` (an EXIF TIFF structure) as written.
fn with_tiff(img: &RgbImage, tiff: &[u8]) -> Vec<u8> {
    let plain = encode(img, ImageFormat::Jpeg);
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&u16::try_from(tiff.len() + 8).unwrap().to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

/// How a hand-rolled EXIF block is laid out: the quirks other writers have.
#[derive(Debug, Clone, Copy)]
pub struct TiffLayout {
    /// Motorola (`MM`) byte order instead of Intel (`II`).
    pub big_endian: bool,
    /// The EXIF and GPS sub-IFDs end with a non-zero next-IFD offset (as some widely used
    /// writers produce), which strict readers refuse.
    pub sub_ifd_next_pointer: bool,
}

/// The same camera data as [`jpeg_with_exif`], laid out by a second, independent writer: a
/// byte-level TIFF encoder that can reproduce other writers' byte order and structural quirks.
pub fn jpeg_with_tiff_layout(img: &RgbImage, exif: &CameraExif<'_>, layout: TiffLayout) -> Vec<u8> {
    with_tiff(img, &tiff_bytes(exif, layout))
}

fn tiff_bytes(exif: &CameraExif<'_>, layout: TiffLayout) -> Vec<u8> {
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const ASCII: u16 = 2;
    const RATIONAL: u16 = 5;
    let u16b = |v: u16| if layout.big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
    let u32b = |v: u32| if layout.big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
    // (tag, type, count, payload); payloads over 4 bytes go to a data area after the IFD.
    type Entry = (u16, u16, u32, Vec<u8>);
    let ascii = |s: &str| {
        let mut b = s.as_bytes().to_vec();
        b.push(0);
        b
    };
    let rationals = |v: f64| {
        let d = v.abs().trunc();
        let m = ((v.abs() - d) * 60.0).trunc();
        let sec = (v.abs() - d - m / 60.0) * 3600.0;
        let mut b = Vec::new();
        for (num, den) in [(d as u32, 1u32), (m as u32, 1), ((sec * 10_000.0).round() as u32, 10_000)] {
            b.extend_from_slice(&u32b(num));
            b.extend_from_slice(&u32b(den));
        }
        b
    };
    let orientation = {
        let mut b = u16b(exif.orientation).to_vec();
        b.extend_from_slice(&[0, 0]);
        b
    };
    let make = ascii("OtherWriter");
    let taken = ascii(exif.taken_at);
    // Offsets are from the TIFF header; lay out IFD0, then the EXIF IFD, then the GPS IFD.
    let ifd_len = |entries: &[Entry]| {
        2 + 12 * entries.len() + 4 + entries.iter().map(|e| if e.3.len() > 4 { e.3.len() } else { 0 }).sum::<usize>()
    };
    let mut ifd0: Vec<Entry> =
        vec![(0x010F, ASCII, make.len() as u32, make), (0x0112, SHORT, 1, orientation), (0x8769, LONG, 1, vec![0; 4])];
    let exif_ifd: Vec<Entry> = vec![(0x9003, ASCII, taken.len() as u32, taken)];
    let mut gps_ifd: Vec<Entry> = Vec::new();
    if let Some((lat, lng)) = exif.gps {
        ifd0.push((0x8825, LONG, 1, vec![0; 4]));
        gps_ifd = vec![
            (0x0001, ASCII, 2, b"N\0\0\0".to_vec()),
            (0x0002, RATIONAL, 3, rationals(lat)),
            (0x0003, ASCII, 2, b"E\0\0\0".to_vec()),
            (0x0004, RATIONAL, 3, rationals(lng)),
        ];
    }
    let ifd0_at = 8usize;
    let exif_at = ifd0_at + ifd_len(&ifd0);
    let gps_at = exif_at + ifd_len(&exif_ifd);
    ifd0[2].3 = u32b(exif_at as u32).to_vec();
    if exif.gps.is_some() {
        ifd0[3].3 = u32b(gps_at as u32).to_vec();
    }
    let quirk = if layout.sub_ifd_next_pointer { ifd0_at as u32 } else { 0 };
    let mut out = if layout.big_endian { b"MM\0\x2A".to_vec() } else { b"II\x2A\0".to_vec() };
    out.extend_from_slice(&u32b(ifd0_at as u32));
    let write_ifd = |out: &mut Vec<u8>, at: usize, entries: &[Entry], next: u32| {
        let mut data_at = at + 2 + 12 * entries.len() + 4;
        let mut data = Vec::new();
        out.extend_from_slice(&u16b(entries.len() as u16));
        for (tag, kind, count, payload) in entries {
            out.extend_from_slice(&u16b(*tag));
            out.extend_from_slice(&u16b(*kind));
            out.extend_from_slice(&u32b(*count));
            if payload.len() > 4 {
                out.extend_from_slice(&u32b(data_at as u32));
                data.extend_from_slice(payload);
                data_at += payload.len();
            } else {
                let mut inline = payload.clone();
                inline.resize(4, 0);
                out.extend_from_slice(&inline);
            }
        }
        out.extend_from_slice(&u32b(next));
        out.extend_from_slice(&data);
    };
    write_ifd(&mut out, ifd0_at, &ifd0, 0);
    write_ifd(&mut out, exif_at, &exif_ifd, quirk);
    if exif.gps.is_some() {
        write_ifd(&mut out, gps_at, &gps_ifd, quirk);
    }
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
