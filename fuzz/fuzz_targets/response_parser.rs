//! Feeds arbitrary bytes to every response decoder: none may panic, loop or expand an entity.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zcrm_protocol::response::misc::{
    ConvertResult, ModuleInfo, RelatedUpdateResult, StatusResult, User, decode_deleted_ids,
};
use zcrm_protocol::{ModuleFields, RecordsPage, WriteResponse};

fuzz_target!(|data: &[u8]| {
    if let Ok(page) = RecordsPage::decode(data) {
        // Every decoded row must be readable by label.
        for row in page.rows() {
            for (label, _) in row.fields() {
                let _ = row.get(label);
            }
        }
    }
    let _ = WriteResponse::decode(data);
    let _ = ModuleFields::decode(data);
    let _ = StatusResult::decode(data);
    let _ = ConvertResult::decode(data);
    let _ = RelatedUpdateResult::decode(data);
    let _ = User::decode_list(data);
    let _ = ModuleInfo::decode_list(data);
    let _ = decode_deleted_ids(data);
    let _ = zcrm_protocol::json::xml_to_json(data);
});
