//! The photo-evidence pipeline, the same on the phone (before upload) and on the server (on every
//! stored image, whatever the client did): sniff and bound the input, decode JPEG, PNG or WebP,
//! read capture time and GPS from EXIF, apply the EXIF orientation, shrink the long edge to at
//! most 2,048 px, re-encode as JPEG without any metadata, and hash the result.
//!
//! Pure computation: bytes in, bytes and metadata out.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, Limits as DecodeLimits};

use crate::domain::error::DomainError;

/// Bounds on what is accepted and what is produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted file.
    pub max_bytes: usize,
    /// Largest accepted width × height, checked from the header before any pixel is decoded.
    pub max_pixels: u64,
    /// The stored image's long edge.
    pub long_edge: u32,
    pub jpeg_quality: u8,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_bytes: 15 * 1024 * 1024, max_pixels: 50_000_000, long_edge: 2048, jpeg_quality: 80 }
    }
}

/// What the original said about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Capture {
    /// `DateTimeOriginal` as written by the camera (local time, no zone), `YYYY-MM-DD HH:MM:SS`.
    pub taken_at: Option<String>,
    /// (lat, lng) in WGS-84 degrees.
    pub gps: Option<(f64, f64)>,
    /// EXIF orientation 1–8 as found (1 when absent); already applied to the output.
    pub orientation: u16,
}

/// A processed photo.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    /// Baseline JPEG with no EXIF, XMP or other metadata.
    pub jpeg: Vec<u8>,
    /// Lower-case hex SHA-256 of `jpeg`.
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    /// `jpeg`, `png` or `webp`.
    pub source_format: &'static str,
    pub capture: Capture,
}

fn refuse(code: &'static str, message: impl Into<String>) -> DomainError {
    DomainError::new("photo", code, message)
}

/// The format from the leading bytes, whatever the file is called.
fn sniff(bytes: &[u8]) -> Result<ImageFormat, DomainError> {
    match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => Ok(f),
        Ok(other) => {
            Err(refuse("unsupported_format", format!("{other:?} images are not accepted; send JPEG, PNG or WebP")))
        }
        Err(_) => Err(refuse("not_an_image", "the file is not a JPEG, PNG or WebP image")),
    }
}

/// Lenient decoders fill a cut-off JPEG with grey; a complete one has an end-of-image marker
/// after its last start-of-scan (an embedded EXIF thumbnail's markers come earlier).
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last = |marker: u8| bytes.windows(2).rposition(|w| w[0] == 0xFF && w[1] == marker);
    matches!((last(0xDA), last(0xD9)), (Some(sos), Some(eoi)) if eoi > sos)
}

/// Capture time, position and orientation from EXIF, if the file carries any.
pub fn capture_of(bytes: &[u8]) -> Capture {
    let mut c = Capture { orientation: 1, ..Capture::default() };
    // Read what is readable: phones and editing tools write EXIF with small structural faults
    // (a stray next-IFD offset, an odd entry) that a strict reader would let cost us everything.
    let mut reader = exif::Reader::new();
    reader.continue_on_error(true);
    let read = reader.read_from_container(&mut Cursor::new(bytes)).or_else(|e| e.distill_partial_result(drop));
    let Ok(exif) = read else { return c };
    if let Some(f) = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        && let Some(v) = f.value.get_uint(0)
        && (1..=8).contains(&v)
    {
        c.orientation = u16::try_from(v).unwrap_or(1);
    }
    if let Some(f) = exif.get_field(exif::Tag::DateTimeOriginal, exif::In::PRIMARY)
        && let exif::Value::Ascii(ref v) = f.value
        && let Some(raw) = v.first()
        && let Ok(dt) = exif::DateTime::from_ascii(raw)
    {
        c.taken_at = Some(format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second
        ));
    }
    let coord = |tag, reference, negative: &[u8]| -> Option<f64> {
        let f = exif.get_field(tag, exif::In::PRIMARY)?;
        let exif::Value::Rational(ref parts) = f.value else { return None };
        let [d, m, s] = parts.get(..3)? else { return None };
        let deg = d.to_f64() + m.to_f64() / 60.0 + s.to_f64() / 3600.0;
        let sign = match exif.get_field(reference, exif::In::PRIMARY).map(|r| &r.value) {
            Some(exif::Value::Ascii(v))
                if v.first().is_some_and(|r| negative.contains(&r.first().copied().unwrap_or(0))) =>
            {
                -1.0
            }
            _ => 1.0,
        };
        deg.is_finite().then_some(sign * deg)
    };
    if let (Some(lat), Some(lng)) = (
        coord(exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef, b"S"),
        coord(exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef, b"W"),
    ) && lat.abs() <= 90.0
        && lng.abs() <= 180.0
    {
        c.gps = Some((lat, lng));
    }
    c
}

/// Turns pixels as stored into pixels as the camera saw them (EXIF orientation 1–8).
fn orient(img: DynamicImage, orientation: u16) -> DynamicImage {
    match orientation {
        2 => img.fliph(),
        3 => img.rotate180(),
        4 => img.flipv(),
        5 => img.rotate90().fliph(),
        6 => img.rotate90(),
        7 => img.rotate270().fliph(),
        8 => img.rotate270(),
        _ => img,
    }
}

/// Runs the whole pipeline on one file.
pub fn process(bytes: &[u8], limits: &Limits) -> Result<Processed, DomainError> {
    if bytes.len() > limits.max_bytes {
        return Err(refuse(
            "too_large",
            format!("the file has {} bytes; at most {} are accepted", bytes.len(), limits.max_bytes),
        ));
    }
    let format = sniff(bytes)?;
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(refuse("corrupt", "the JPEG is truncated (no end of image after its last scan)"));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // The header alone says how big the pixels would be: a decompression bomb fails here, before
    // anything is allocated for it.
    let (w, h) =
        reader.into_dimensions().map_err(|e| refuse("corrupt", format!("the image header cannot be read: {e}")))?;
    if u64::from(w) * u64::from(h) > limits.max_pixels {
        return Err(refuse(
            "too_many_pixels",
            format!("the image is {w}×{h} pixels; at most {} are accepted", limits.max_pixels),
        ));
    }
    reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decode_limits = DecodeLimits::default();
    decode_limits.max_image_width = Some(w);
    decode_limits.max_image_height = Some(h);
    // RGBA at 8 bits, plus headroom for the decoder's own buffers.
    decode_limits.max_alloc = Some(limits.max_pixels.saturating_mul(4).saturating_add(64 << 20));
    reader.limits(decode_limits);
    let img = reader.decode().map_err(|e| refuse("corrupt", format!("the image cannot be decoded: {e}")))?;
    let capture = capture_of(bytes);
    let img = orient(img, capture.orientation);
    let img = if img.width().max(img.height()) > limits.long_edge {
        // Area averaging: good for shrinking, and it needs no buffer beyond the output (a filtered
        // resize holds a float copy of the intermediate, ~75 MB for a 12 MP photo).
        img.thumbnail(limits.long_edge, limits.long_edge)
    } else {
        img
    };
    let rgb = img.to_rgb8();
    let mut jpeg = Vec::with_capacity(rgb.len() / 8);
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, limits.jpeg_quality);
    encoder.encode_image(&rgb).map_err(|e| refuse("encode_failed", format!("re-encoding failed: {e}")))?;
    let sha256 = crate::hash::sha256_hex(&jpeg);
    let source_format = match format {
        ImageFormat::Png => "png",
        ImageFormat::WebP => "webp",
        _ => "jpeg",
    };
    Ok(Processed { width: rgb.width(), height: rgb.height(), jpeg, sha256, source_format, capture })
}

/// A small JPEG for lists (long edge `edge` px) from an already processed photo.
pub fn thumbnail(processed_jpeg: &[u8], edge: u32) -> Result<Vec<u8>, DomainError> {
    let img = image::load_from_memory_with_format(processed_jpeg, ImageFormat::Jpeg)
        .map_err(|e| refuse("corrupt", format!("the stored image cannot be decoded: {e}")))?;
    let small = img.thumbnail(edge, edge).to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 75)
        .encode_image(&small)
        .map_err(|e| refuse("encode_failed", format!("thumbnail encoding failed: {e}")))?;
    Ok(out)
}
