//! Decodes arbitrary xmlData (the emulator's input), and re-encodes what decodes: the second
//! decode must give the same rows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zcrm_protocol::{XmlDataBuilder, decode_xml_data};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(doc) = decode_xml_data(text) else { return };
    if doc.rows.is_empty()
        || doc.module.is_empty()
        || doc.rows.iter().any(|r| !r.options.is_empty() || !r.products.is_empty())
    {
        return;
    }
    let mut b = XmlDataBuilder::new(&doc.module, u32::MAX);
    for row in &doc.rows {
        if b.push_row(row.fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))).is_err() {
            return;
        }
    }
    let Ok(again) = b.finish() else { return };
    let back = decode_xml_data(&again).expect("re-encoded xmlData decodes");
    for (a, b) in doc.rows.iter().zip(&back.rows) {
        assert_eq!(a.fields, b.fields);
    }
});
