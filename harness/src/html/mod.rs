//! HTML reports: the timeline of one run as one self-contained page.
//!
//! [`timeline`] turns a run's [`Report`] into a page with a lane per device and one for the
//! server along virtual time: user operations from invoke to ok, fail or unknown, sync
//! rounds with what they pulled and pushed, conflicts, faults as shaded spans (partitions,
//! profiles, holds, HTTP faults such as lost responses, hosts down) and marks (kills,
//! restarts, clock changes, upgrades), and each violation where it was detected, with the
//! operations and records it names and the faults and kills that hit the hosts involved.
//!
//! The page needs no network: its style and script are inline, and the run is embedded as
//! JSON that the script draws into SVG, only the part in view, so that runs of thousands of
//! events stay quick to zoom and scroll. The verdict and the violations are plain HTML and
//! read without the script. The same report gives the same page, byte for byte.
//!
//! ```no_run
//! # fn demo(report: &syncsim::Report) -> syncsim::Result<()> {
//! report.write_timeline(std::path::Path::new("target/run.html"))?;
//! let page: String = syncsim::html::timeline(report);
//! # Ok(()) }
//! ```

mod fault;
mod model;
mod page;
mod violation;

use crate::error::{Error, Result};
use crate::report::Report;
use std::path::Path;

/// The timeline of `report`'s run as a self-contained HTML page.
pub fn timeline(report: &Report) -> String {
    page::render(report)
}

/// `text` with `&`, `<`, `>`, `"` and `'` escaped, for HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl Report {
    /// Writes the run's timeline, a self-contained HTML page ([`timeline`]),
    /// to `path`, creating its directory.
    pub fn write_timeline(&self, path: &Path) -> Result<()> {
        let io = |source| Error::Io { path: path.to_owned(), source };
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(path, timeline(self)).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping_leaves_no_markup_and_no_way_out_of_an_attribute() {
        let escaped = super::escape(r#"<script>alert("x" & 'y')</script>"#);
        assert_eq!(escaped, "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;");
    }
}
