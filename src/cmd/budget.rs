//! `zcrm budget`: calls spent today, the day's budget, what is left and when the day turns
//! (on the REST API: credits over the last 24 hours and when the oldest free up).

use anyhow::Result;

use crate::connection::Settings;

/// Runs the command; returns the text to print.
pub fn run(json: bool) -> Result<String> {
    let settings = Settings::from_env()?;
    let s = settings.ledger("cli")?.status()?;
    if json {
        return Ok(serde_json::to_string_pretty(&s)?);
    }
    if settings.spec().rule().rolling() {
        return Ok(format!(
            "org {} — REST API credits over the last 24 hours (org time zone {})\n  credits spent         {:>7}  (by zcrm through this state dir)\n  credits per 24 hours  {:>7}\n  this share's limit    {:>7}  (budget share {})\n  left now              {:>7}\n  the oldest free up at {}\n",
            s.org,
            settings.timezone.iana_name().unwrap_or("UTC"),
            s.spent,
            s.budget,
            s.share_limit,
            settings.share,
            s.remaining,
            s.resets_at
        ));
    }
    let mut out = format!(
        "org {} — day {} (org time zone {})\n",
        s.org,
        s.day,
        settings.timezone.iana_name().unwrap_or("UTC")
    );
    out.push_str(&format!(
        "  calls spent today     {:>7}  (by zcrm through this state dir)\n",
        s.spent
    ));
    out.push_str(&format!("  daily budget          {:>7}\n", s.budget));
    out.push_str(&format!(
        "  this share's limit    {:>7}  (budget share {})\n",
        s.share_limit, settings.share
    ));
    out.push_str(&format!("  left today            {:>7}\n", s.remaining));
    out.push_str(&format!(
        "  search/CV calls       {:>7} of {}\n",
        s.search_cv_spent,
        zcrm_protocol::limits::SEARCH_CV_DAILY_CAP
    ));
    if s.server_limit_hit {
        out.push_str("  Zoho answered 4421 today: nothing more is sent until the day turns\n");
    }
    out.push_str(&format!("  the day turns at      {}\n", s.resets_at));
    Ok(out)
}
