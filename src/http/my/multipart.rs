//! The parts of a `multipart/form-data` body (RFC 7578), as a browser sends a form
//! with a file: enough for the roster upload, which has a token and one file. The body
//! is already in memory, bounded by the payload limit.

/// One part: its field name, the file name a file part carries, its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// `name=` of its Content-Disposition.
    pub name: String,
    /// `filename=`, for a file.
    pub filename: Option<String>,
    /// The content.
    pub data: Vec<u8>,
}

/// The `boundary` of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let v = v.trim().trim_matches('"');
        (!v.is_empty() && v.len() <= 70).then(|| v.to_owned())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// A parameter of a Content-Disposition header (`name="x"`).
fn param(header: &str, key: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The parts of `body`; `None` when it is not a well-formed multipart body.
pub fn parts(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delim = format!("--{boundary}").into_bytes();
    let next_delim = format!("\r\n--{boundary}").into_bytes();
    let mut at = find(body, &delim, 0)? + delim.len();
    let mut out = Vec::new();
    loop {
        if body.get(at..at + 2) == Some(b"--") {
            return Some(out);
        }
        if body.get(at..at + 2) != Some(b"\r\n") {
            return None;
        }
        let head_start = at + 2;
        let head_end = find(body, b"\r\n\r\n", head_start)?;
        let head = String::from_utf8_lossy(&body[head_start..head_end]);
        let disposition = head
            .split("\r\n")
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?
            .to_owned();
        let data_start = head_end + 4;
        let data_end = find(body, &next_delim, data_start)?;
        out.push(Part {
            name: param(&disposition, "name")?,
            filename: param(&disposition, "filename").filter(|f| !f.is_empty()),
            data: body[data_start..data_end].to_vec(),
        });
        at = data_end + next_delim.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_form_with_a_file_reads_as_its_parts() {
        let ct = "multipart/form-data; boundary=----WebKitFormBoundaryX1";
        let b = boundary(ct).unwrap_or_default();
        assert_eq!(b, "----WebKitFormBoundaryX1");
        let body = "------WebKitFormBoundaryX1\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc\r\n------WebKitFormBoundaryX1\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\r\n1,2\r\n\r\n------WebKitFormBoundaryX1--\r\n";
        let p = parts(body.as_bytes(), &b).unwrap_or_default();
        assert_eq!(p.len(), 2);
        assert_eq!(
            (p[0].name.as_str(), p[0].data.as_slice()),
            ("csrf_token", &b"abc"[..])
        );
        assert_eq!(p[1].filename.as_deref(), Some("r.csv"));
        assert_eq!(p[1].data, b"a,b\r\n1,2\r\n");
        assert!(parts(b"garbage", &b).is_none());
        assert!(boundary("text/plain").is_none());
    }
}
