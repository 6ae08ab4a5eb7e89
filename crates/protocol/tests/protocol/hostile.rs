//! Hostile bodies: never a panic, never an entity expansion, always a typed error.

use zcrm_protocol::response::misc::User;
use zcrm_protocol::{
    DecodeError, ModuleFields, RecordsPage, ResponseError, WriteResponse, decode_xml_data,
};

use crate::fixture;

fn decode_err(bytes: &[u8]) -> DecodeError {
    match RecordsPage::decode(bytes) {
        Err(ResponseError::Decode(e)) => e,
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[test]
fn billion_laughs_is_refused_at_the_doctype() {
    let bytes = fixture("hostile_billion_laughs.xml");
    assert_eq!(decode_err(&bytes), DecodeError::DoctypeNotAllowed);
    assert!(matches!(
        WriteResponse::decode(&bytes),
        Err(ResponseError::Decode(DecodeError::DoctypeNotAllowed))
    ));
    assert!(matches!(
        ModuleFields::decode(&bytes),
        Err(ResponseError::Decode(DecodeError::DoctypeNotAllowed))
    ));
}

#[test]
fn external_entity_is_refused() {
    assert_eq!(decode_err(&fixture("hostile_xxe.xml")), DecodeError::DoctypeNotAllowed);
}

#[test]
fn undefined_entity_is_an_error() {
    assert_eq!(
        decode_err(&fixture("hostile_undefined_entity.xml")),
        DecodeError::UnknownEntity("lol".into())
    );
}

#[test]
fn every_truncation_of_a_page_is_an_error_not_a_panic() {
    let bytes = fixture("records_contacts.xml");
    let root_start = bytes.windows(9).position(|w| w == b"<response").unwrap();
    for cut in root_start + 1..bytes.len() - 1 {
        let result = RecordsPage::decode(&bytes[..cut]);
        assert!(result.is_err(), "a body cut at byte {cut} decoded as complete");
    }
}

#[test]
fn every_truncation_of_small_shapes_is_an_error() {
    for name in ["insert_v4_rows.xml", "fields_leads.xml", "users.xml"] {
        let bytes = fixture(name);
        let end = bytes.iter().rposition(|b| *b == b'>').unwrap();
        for cut in 45..end {
            let r1 = WriteResponse::decode(&bytes[..cut]).is_err();
            let r2 = ModuleFields::decode(&bytes[..cut]).is_err() || name != "fields_leads.xml";
            let r3 = User::decode_list(&bytes[..cut]).is_err() || name != "users.xml";
            assert!(r1 && r2 && r3, "{name} cut at {cut} decoded");
        }
    }
}

#[test]
fn truncated_error_is_named() {
    let bytes = b"<response uri=\"/x\"><result><Leads><row no=\"1\"><FL val=\"A\">x</FL>";
    assert!(matches!(decode_err(bytes), DecodeError::Truncated { depth } if depth >= 4));
}

#[test]
fn non_utf8_bytes_are_an_error() {
    let mut bytes = b"<response uri=\"/x\"><result><Leads><row no=\"1\"><FL val=\"A\">".to_vec();
    bytes.extend_from_slice(&[0xC3, 0x28, 0xFF]);
    bytes.extend_from_slice(b"</FL></row></Leads></result></response>");
    assert!(matches!(decode_err(&bytes), DecodeError::Xml { .. }));
}

/// Text and CDATA pieces alike: plain ones come back as they are, line ends are normalised,
/// and a control character or a non-character (U+FFFE, U+FFFF) is refused.
#[test]
fn text_and_cdata_pieces_are_checked_the_same_way() {
    let page = |value: &str| {
        format!(
            "<response uri=\"/x\"><result><Leads><row no=\"1\"><FL val=\"A\">{value}</FL></row></Leads></result></response>"
        )
    };
    let text_of = |value: &str| {
        let body = page(value);
        let page = RecordsPage::decode(body.as_bytes()).unwrap();
        page.rows().next().and_then(|r| r.text("A")).map(str::to_owned)
    };
    for (value, want) in [
        ("plain text", "plain text"),
        ("<![CDATA[plain & <cdata>]]>", "plain & <cdata>"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("<![CDATA[a\r\nb]]>", "a\nb"),
        ("tab\tand\nline", "tab\tand\nline"),
        ("caf\u{e9} \u{feff}", "caf\u{e9} \u{feff}"),
    ] {
        assert_eq!(text_of(value).as_deref(), Some(want), "{value:?}");
    }
    for (value, code) in
        [("<![CDATA[a\u{1}b]]>", 1), ("a\u{fffe}", 0xFFFE), ("<![CDATA[\u{ffff}]]>", 0xFFFF)]
    {
        assert_eq!(decode_err(page(value).as_bytes()), DecodeError::InvalidChar(code), "{value:?}");
    }
}

#[test]
fn control_characters_are_refused_literal_or_referenced() {
    let literal = b"<response uri=\"/x\"><result><Leads><row no=\"1\"><FL val=\"A\">a\x01b</FL></row></Leads></result></response>";
    assert_eq!(decode_err(literal), DecodeError::InvalidChar(1));
    let referenced = b"<response uri=\"/x\"><result><Leads><row no=\"1\"><FL val=\"A\">a&#27;b</FL></row></Leads></result></response>";
    assert_eq!(decode_err(referenced), DecodeError::InvalidChar(27));
}

#[test]
fn deep_nesting_is_bounded() {
    let mut doc = String::from("<response>");
    for _ in 0..10_000 {
        doc.push_str("<a>");
    }
    // The streaming page decoder stops at the first unexpected element; the tree decoders at the depth cap.
    assert!(RecordsPage::decode(doc.as_bytes()).is_err());
    assert!(matches!(
        WriteResponse::decode(doc.as_bytes()),
        Err(ResponseError::Decode(DecodeError::TooDeep(_)))
    ));
}

#[test]
fn garbage_never_panics() {
    let samples: [&[u8]; 8] = [
        b"",
        b"   ",
        b"not xml at all",
        b"<",
        b"<response",
        b"</response>",
        b"<response uri=\"x\"><result><Leads><row no=\"abc\"><FL>1</FL></row></Leads></result></response>",
        b"<a></b>",
    ];
    for s in samples {
        let _ = RecordsPage::decode(s);
        let _ = WriteResponse::decode(s);
        let _ = ModuleFields::decode(s);
        let _ = decode_xml_data(std::str::from_utf8(s).unwrap());
    }
}

#[test]
fn xml_data_with_doctype_is_refused() {
    let doc = "<!DOCTYPE x [<!ENTITY e \"boom\">]><Leads><row no=\"1\"><FL val=\"A\">&e;</FL></row></Leads>";
    assert_eq!(decode_xml_data(doc), Err(DecodeError::DoctypeNotAllowed));
}
