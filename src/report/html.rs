//! The self-contained index.html written into every output folder: what was
//! run, the tables, the targets' verdicts and the figures (SVG inlined, so the
//! page needs no network and no other file).

use std::fmt::Write;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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

/// A report page assembled section by section.
pub struct Page {
    title: String,
    body: String,
}

impl Page {
    pub fn new(title: &str) -> Page {
        Page {
            title: title.to_string(),
            body: String::new(),
        }
    }

    pub fn heading(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<h2>{}</h2>", esc(text));
        self
    }

    pub fn paragraph(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<p>{}</p>", esc(text));
        self
    }

    /// A preformatted block (commands, for copying).
    pub fn code(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<pre><code>{}</code></pre>", esc(text));
        self
    }

    /// Two-column facts: what was run.
    pub fn facts(&mut self, rows: &[(&str, String)]) -> &mut Self {
        self.body.push_str("<table class=\"facts\">\n");
        for (k, v) in rows {
            let _ = writeln!(self.body, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
        }
        self.body.push_str("</table>\n");
        self
    }

    /// A data table. Cells starting with "PASS", "FAIL" or "UNDECIDED" are coloured.
    pub fn table(&mut self, headers: &[&str], rows: &[Vec<String>]) -> &mut Self {
        self.body.push_str("<table class=\"data\">\n<thead><tr>");
        for h in headers {
            let _ = write!(self.body, "<th>{}</th>", esc(h));
        }
        self.body.push_str("</tr></thead>\n<tbody>\n");
        for r in rows {
            self.body.push_str("<tr>");
            for c in r {
                let class = ["PASS", "FAIL", "UNDECIDED"]
                    .iter()
                    .find(|v| c.starts_with(*v));
                match class {
                    Some(v) => {
                        let _ = write!(
                            self.body,
                            "<td class=\"{}\">{}</td>",
                            v.to_lowercase(),
                            esc(c)
                        );
                    }
                    None => {
                        let _ = write!(self.body, "<td>{}</td>", esc(c));
                    }
                }
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</tbody>\n</table>\n");
        self
    }

    /// A figure: the SVG inline, with links to the SVG and PNG files beside the page.
    pub fn figure(&mut self, caption: &str, svg: &str, file_stem: &str) -> &mut Self {
        let svg = svg.trim_start_matches(|c| c != '<');
        let svg = svg
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
            .unwrap_or(svg);
        let _ = writeln!(
            self.body,
            "<figure>{svg}<figcaption>{} (<a href=\"{stem}.svg\">SVG</a>, <a href=\"{stem}.png\">PNG</a>)</figcaption></figure>",
            esc(caption),
            stem = esc(file_stem)
        );
        self
    }

    pub fn render(&self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n{body}<footer>drsim {version}</footer>\n<script>{CHECK}</script>\n</body>\n</html>\n",
            title = esc(&self.title),
            body = self.body,
            version = env!("CARGO_PKG_VERSION"),
        )
    }
}

/// Records on <body> what the browser actually rendered (tables, rows,
/// figures with a non-empty drawing), so an automated browser test can check
/// the page without a driver. Harmless for a person reading the page.
const CHECK: &str = "window.addEventListener('load',function(){var f=document.querySelectorAll('figure svg'),blank=0;\
f.forEach(function(s){var b=s.getBBox();if(!(b.width>0&&b.height>0))blank++;});\
document.body.setAttribute('data-render-check','tables='+document.querySelectorAll('table').length+\
' rows='+document.querySelectorAll('table tr').length+' figures='+f.length+' blank='+blank);});";

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}\
table.facts th,table.facts td{text-align:left}thead th{background:#f0f0f0}\
td.pass{background:#d9f2d9}td.fail{background:#f7d4d4}td.undecided{background:#fff3c4}\
figure{margin:1.5em 0}figure svg{max-width:100%;height:auto;border:1px solid #eee}\
figcaption{color:#555;font-size:90%}pre{background:#f6f6f6;padding:.6em;overflow-x:auto}footer{color:#888;margin-top:3em}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_colours_verdicts() {
        let mut p = Page::new("a <b> & c");
        p.table(
            &["target", "verdict"],
            &[vec!["rto < 5".into(), "PASS".into()]],
        );
        let html = p.render();
        assert!(html.contains("<title>a &lt;b&gt; &amp; c</title>"));
        assert!(html.contains("<td>rto &lt; 5</td><td class=\"pass\">PASS</td>"));
    }
}
