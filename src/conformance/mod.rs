//! The conformance kit for payroll and HR software (docs/conformance.md): the calculation
//! contract in words, the golden cases of `tests/golden` as requests with the figures
//! their answers must show, and an archive holding both with a runner script that checks
//! any calculator against them, to the fen.
//!
//! The cases are the test suite's own golden files, embedded at compile time by
//! `build.rs`: the kit cannot say anything the tests do not check.

use serde::Serialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/golden_files.rs"));

/// The runner script of the archive (Python 3, standard library only).
pub const RUNNER: &str = include_str!("kit/run.py");
/// The archive's README, Chinese and English.
pub const README: &str = include_str!("kit/README.md");
/// The folder every file of the archive sits in.
pub const ARCHIVE_ROOT: &str = "quota-levy-conformance";
/// Where the archive is served.
pub const ARCHIVE_PATH: &str = "/api/v1/conformance.zip";

/// One golden case, as a calculator is asked it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    /// Stable name: the file's path under `tests/golden` without `.json`, folders joined
    /// by `.` (`henan.payment_due_2022`); the runner's answer file is `<id>.json`.
    pub id: String,
    /// The golden file it comes from, in the project's repository.
    pub file: String,
    /// Where the figures come from: a worked example of docs/rules.md or the legal text.
    pub source: String,
    /// What the case shows and any assumption it makes.
    pub note: String,
    /// The path the request is posted to.
    pub endpoint: &'static str,
    /// The request body.
    pub request: Value,
    /// The figures the answer must show: a top-level field name or a JSON pointer, and
    /// the value as text.
    pub expect: Map<String, Value>,
    /// Substrings some warning must contain (quota-levy's own wording; checked by the
    /// runner only with `--texts`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings_contain: Vec<Value>,
    /// Substrings no warning may contain (as above).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings_lack: Vec<Value>,
    /// Citations a pointer must contain (as above).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub citation_contains: Map<String, Value>,
}

/// The kit, built once per process.
#[derive(Debug)]
pub struct Kit {
    /// Every case, in file order.
    pub cases: Vec<Case>,
    /// `GET /api/v1/conformance`, serialised.
    pub index: Vec<u8>,
    /// The zip archive.
    pub archive: Vec<u8>,
    /// The archive's SHA-256, hex.
    pub archive_sha256: String,
}

/// A golden file that does not read as a case (a fault of the repository, which the
/// unit tests catch before any build is shipped).
#[derive(Debug, thiserror::Error)]
#[error("golden case {file}: {reason}")]
pub struct CaseError {
    file: String,
    reason: String,
}

fn case_of(file: &str, text: &str) -> Result<Case, CaseError> {
    let fault = |reason: &str| CaseError {
        file: file.to_owned(),
        reason: reason.to_owned(),
    };
    let doc: Value = serde_json::from_str(text).map_err(|e| fault(&e.to_string()))?;
    let text_of = |key: &str| {
        doc.get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let (endpoint, request) = match (doc.get("request"), doc.get("surcharge_request")) {
        (Some(r), None) => ("/api/v1/levy/calculate", r.clone()),
        (None, Some(r)) => ("/api/v1/levy/surcharge", r.clone()),
        _ => return Err(fault("needs exactly one of request and surcharge_request")),
    };
    let expect = doc
        .get("expect")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty() && m.values().all(Value::is_string))
        .cloned()
        .ok_or_else(|| fault("expect must be a non-empty object of strings"))?;
    let source = text_of("source");
    if source.is_empty() {
        return Err(fault("states no source"));
    }
    let list = |key: &str| {
        doc.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    Ok(Case {
        id: file.trim_end_matches(".json").replace('/', "."),
        file: format!("tests/golden/{file}"),
        source,
        note: text_of("note"),
        endpoint,
        request,
        expect,
        warnings_contain: list("warnings_contain"),
        warnings_lack: list("warnings_lack"),
        citation_contains: doc
            .get("citation_contains")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    })
}

/// Every golden case, in file order.
pub fn cases() -> Result<Vec<Case>, CaseError> {
    GOLDEN_FILES
        .iter()
        .map(|(file, text)| case_of(file, text))
        .collect()
}

/// The calculation contract, in words (Chinese and English) and as references to the
/// OpenAPI document.
pub fn contract() -> Value {
    let figure = |name: &str, kind: &str, decimals: Option<u32>| json!({ "name": name, "kind": kind, "decimals": decimals });
    json!({
        "openapi": "/api/openapi.json",
        "endpoints": [
            {
                "method": "POST",
                "path": "/api/v1/levy/calculate",
                "request_schema": "/api/openapi.json#/components/schemas/CalcRequest",
                "response_schema": "/api/openapi.json#/components/schemas/CalcResponse",
            },
            {
                "method": "POST",
                "path": "/api/v1/levy/surcharge",
                "request_schema": "/api/openapi.json#/paths/~1api~1v1~1levy~1surcharge/post/requestBody",
                "response_schema": "/api/openapi.json#/paths/~1api~1v1~1levy~1surcharge/post/responses/200",
            },
        ],
        "rules": [
            {
                "zh": "金额为元，以字符串表示，恰好两位小数（\"1234.50\"）；人数（年平均在职职工人数、安排残疾人人数、应安排人数、差额）为字符串，四舍五入保留 4 位小数；安排比例 employment_ratio 保留 6 位小数；无定义时为 null。请求中的金额可为字符串或数字，数字不经二进制浮点。",
                "en": "Money is yuan as a string with exactly two decimals (\"1234.50\"); counts (average staff, disabled employees counted, required, shortfall) are strings rounded half-up to 4 decimals; employment_ratio to 6; null where undefined. Money in a request may be a string or a number, never read through binary floating point.",
            },
            {
                "zh": "计算顺序（docs/rules.md 第 5 节）：W = round2(工资总额 / N)；W_used = min(W, k × S)；required = N × q（精确）；shortfall = max(0, required − D)（精确，可不为整数）；fee_due = round2(shortfall × W_used)；r = D / N；有减征档次时 r ≥ 1% 按 50% 缴纳，否则按 90%；reduction = round2(fee_due × (1 − 缴纳比例))；levy_payable = fee_due − reduction，免征时为 0。",
                "en": "Order of the calculation (docs/rules.md §5): W = round2(total wages / N); W_used = min(W, k × S); required = N × q (exact); shortfall = max(0, required − D) (exact, need not be whole); fee_due = round2(shortfall × W_used); r = D / N; while reduction tiers are in force, 50 % is payable when r ≥ 1 %, else 90 %; reduction = round2(fee_due × (1 − payable share)); levy_payable = fee_due − reduction, 0 when exempt.",
            },
            {
                "zh": "round2 为四舍五入到分（0.005 元进为 0.01 元）。只有 W、fee_due 和 reduction 舍入；N、D、required、shortfall 不舍入。全部为精确十进制运算；除以 12 或 N 除不尽时保留精确分数，最后一步才舍入。",
                "en": "round2 rounds half-up to the fen (0.005 yuan becomes 0.01). Only W, fee_due and reduction are rounded; N, D, required and shortfall never are. All arithmetic is exact decimal; a division by 12 or by N that does not end is kept as an exact fraction and rounded only at the last step.",
            },
            {
                "zh": "滞纳金（docs/rules.md 第 6 节）：自应缴日次日起至缴款当日，按日加收未缴本金的 5‰；每段本金不变的天数的金额分别 round2；缴款先抵本金再抵滞纳金。",
                "en": "Late surcharge (docs/rules.md §6): 5‰ of the unpaid principal a day, from the day after the due date up to and including the day of payment; round2 on the amount of each run of days with the same principal; a payment reduces the principal first, then the surcharge.",
            },
            {
                "zh": "比对：每个案例的 expect 列出答复必须给出的数值（顶层字段名，或以 / 开头的 JSON 指针）。十进制数按精确值比较（\"180000.00\" 与 180000.00 相同，180000.01 不同，差一分即不符）；其他值按 JSON 文本比较（\"null\"、\"true\"、\"30\"）。说明文字、警告和引文措辞不属于一致性要求。",
                "en": "Comparison: each case's expect lists the figures the answer must show (a top-level field name, or a JSON pointer starting with /). Decimals compare by exact value (\"180000.00\" and 180000.00 agree, 180000.01 does not: one fen off is a mismatch); other values by their JSON text (\"null\", \"true\", \"30\"). The explanation, warnings and the wording of citations are not part of conformance.",
            },
        ],
        "figures": [
            figure("average_headcount", "count", Some(4)),
            figure("required", "count", Some(4)),
            figure("disabled_counted", "count", Some(4)),
            figure("shortfall", "count", Some(4)),
            figure("over_quota", "count", Some(4)),
            figure("employment_ratio", "ratio", Some(6)),
            figure("average_wage", "money", Some(2)),
            figure("wage_used", "money", Some(2)),
            figure("fee_due", "money", Some(2)),
            figure("reduction", "money", Some(2)),
            figure("levy_payable", "money", Some(2)),
            figure("reward", "money", Some(2)),
            figure("exemption", "null or object", None),
            figure("what_if", "boolean", None),
            figure("/employees/{i}/counted_months", "integer", None),
            figure("surcharge", "money", Some(2)),
            figure("outstanding_principal", "money", Some(2)),
            figure("outstanding_surcharge", "money", Some(2)),
            figure("refund_due", "money", Some(2)),
            figure("/segments/{i}/days", "integer", None),
        ],
        "data": {
            "zh": "案例中的证件号码均为编造的测试号码（校验位有效），不属于任何人。",
            "en": "The certificate numbers in the cases are made up for testing (with valid check characters) and belong to no one.",
        },
    })
}

fn index_of(cases: &[Case], archive: &[u8], sha: &str) -> Value {
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "contract": contract(),
        "cases": cases,
        "archive": {
            "href": ARCHIVE_PATH,
            "media_type": "application/zip",
            "bytes": archive.len(),
            "sha256": sha,
            "run": {
                "zh": "解压后运行 python3 quota-levy-conformance/run.py --url <计算器地址>，或 --outputs <答复文件夹>；详见其中的 README.md。",
                "en": "Unpack it and run python3 quota-levy-conformance/run.py --url <calculator address>, or --outputs <folder of answers>; see its README.md.",
            },
        },
    })
}

/// The zip archive: README.md, run.py, contract.json and cases/<id>.json under
/// [`ARCHIVE_ROOT`], with a fixed date so that the same build always gives the same bytes.
pub fn archive(cases: &[Case]) -> zip::result::ZipResult<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let when = zip::DateTime::from_date_and_time(2026, 1, 1, 0, 0, 0).unwrap_or_default();
    let file = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(when)
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let root = ARCHIVE_ROOT;
    zip.start_file(format!("{root}/README.md"), file)?;
    zip.write_all(README.as_bytes())?;
    zip.start_file(format!("{root}/run.py"), file.unix_permissions(0o755))?;
    zip.write_all(RUNNER.as_bytes())?;
    zip.start_file(format!("{root}/contract.json"), file)?;
    zip.write_all(&pretty(&contract()))?;
    for case in cases {
        zip.start_file(format!("{root}/cases/{}.json", case.id), file)?;
        zip.write_all(&pretty(case))?;
    }
    Ok(zip.finish()?.into_inner())
}

fn pretty(v: &impl Serialize) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).unwrap_or_default();
    out.push(b'\n');
    out
}

/// Builds the kit: the cases, the archive and the index that links it.
pub fn build() -> Result<Kit, String> {
    let cases = cases().map_err(|e| e.to_string())?;
    let archive = archive(&cases).map_err(|e| format!("conformance archive: {e}"))?;
    let archive_sha256 = hex::encode(Sha256::digest(&archive));
    let index = serde_json::to_vec(&index_of(&cases, &archive, &archive_sha256))
        .map_err(|e| e.to_string())?;
    Ok(Kit {
        cases,
        index,
        archive,
        archive_sha256,
    })
}

/// The kit of this build, made at first use.
pub fn kit() -> Result<&'static Kit, &'static str> {
    static KIT: OnceLock<Result<Kit, String>> = OnceLock::new();
    KIT.get_or_init(build).as_ref().map_err(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_golden_file_is_embedded_and_reads_as_a_case() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let mut on_disk = Vec::new();
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("tests/golden") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "json") {
                    let rel = p.strip_prefix(&dir).expect("under tests/golden");
                    on_disk.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        on_disk.sort();
        let embedded: Vec<String> = GOLDEN_FILES.iter().map(|(f, _)| f.to_string()).collect();
        assert_eq!(embedded, on_disk);
        for (file, text) in GOLDEN_FILES {
            let on_disk = std::fs::read_to_string(dir.join(file)).expect("read");
            assert_eq!(*text, on_disk, "{file}: the embedded text is the file's");
        }
        let cases = cases().expect("every golden file is a case");
        assert!(cases.iter().any(|c| c.endpoint.ends_with("/surcharge")));
        assert!(cases.iter().any(|c| c.id == "henan.payment_due_2022"));
    }

    #[test]
    fn a_file_without_a_source_or_figures_is_no_case() {
        let ok = r#"{"source":"s","request":{},"expect":{"fee_due":"1.00"}}"#;
        assert!(case_of("a.json", ok).is_ok());
        for bad in [
            r#"{"request":{},"expect":{"fee_due":"1.00"}}"#,
            r#"{"source":"s","request":{},"expect":{}}"#,
            r#"{"source":"s","request":{},"expect":{"fee_due":1}}"#,
            r#"{"source":"s","expect":{"fee_due":"1.00"}}"#,
            r#"{"source":"s","request":{},"surcharge_request":{},"expect":{"a":"1"}}"#,
        ] {
            assert!(case_of("a.json", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_archive_is_the_same_bytes_every_time_and_holds_every_case() {
        let cases = cases().expect("cases");
        let a = archive(&cases).expect("archive");
        assert_eq!(a, archive(&cases).expect("archive"));
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(a)).expect("a zip");
        let names: Vec<String> = zip
            .file_names()
            .map(|n| n.map(|n| n.into_owned()))
            .collect::<Result<_, _>>()
            .expect("names");
        for case in &cases {
            let name = format!("{ARCHIVE_ROOT}/cases/{}.json", case.id);
            assert!(names.contains(&name), "{name}");
        }
        for f in ["README.md", "run.py", "contract.json"] {
            assert!(names.contains(&format!("{ARCHIVE_ROOT}/{f}")), "{f}");
        }
        let mut readme = String::new();
        std::io::Read::read_to_string(
            &mut zip
                .by_name(&format!("{ARCHIVE_ROOT}/README.md"))
                .expect("readme"),
            &mut readme,
        )
        .expect("text");
        assert!(readme.contains("一致性") && readme.contains("conformance"));
    }
}
