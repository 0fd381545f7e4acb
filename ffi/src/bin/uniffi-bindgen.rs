//! `cargo run -p gridwork-ffi --features bindgen --bin uniffi-bindgen -- generate --library …`
fn main() {
    uniffi::uniffi_bindgen_main();
}
