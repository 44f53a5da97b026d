//! The explanation of a calculation: ordered steps, each with its formula, the values that
//! went in, the result, the citation and a sentence in Chinese (or English on request).
//!
//! The sentence is for the employer: words and figures only, no symbols or variable
//! names; people as "2.4 人", money as "25,920.00 元" ("25,920.00 yuan" in English). The
//! formula, in the notation of docs/rules.md §5, is its own field for those who want to
//! check it; inputs and results stay machine figures ("25920.00").
//!
//! Inputs hold exact values so that anyone can recompute each result from them: counts as
//! finite decimals ("0.485") or fractions over twelve ("388/12", see
//! [`parse_exact`](super::parse_exact)), money with two decimals, ratios as decimals.
//!
//! Speed (the engine targets of BENCHMARKS.md): each step keeps all of its text in one
//! buffer, and numbers are formatted on the stack.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::employees::{write_exclusion_detail, write_month_runs, EmployeeOutcome, MinimumWages};
use super::num::Num;
use super::{
    exact, Certificate, Disabled, DisabledEmployee, LevyInput, RewardFigures, Staff, Twelfths,
    Wages,
};
use crate::domain::lang::Language;
use crate::domain::policy::{
    Cited, ExemptionRule, ReductionTiers, ResolvedPolicy, RewardPersons, RewardRule,
};
use crate::domain::region::EmployerKind;

/// Whether to build the explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExplainMode {
    /// Figures only: no explanation strings are built (batch runs).
    FiguresOnly,
    /// Figures and the explanation, with texts in the given language.
    Full(Language),
}

/// The explanation of one calculation: its steps in order. All text lives in one buffer
/// (three allocations per calculation, whatever the number of steps), and each [`Step`]
/// is a view into it. Serializes as a JSON array of step objects.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Explanation {
    buf: String,
    inputs: Vec<(&'static str, u32, u32)>,
    steps: Vec<StepMeta>,
}

/// Where one step's parts are in the buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
struct StepMeta {
    step: &'static str,
    formula: &'static str,
    inputs: (u32, u32),
    result: (u32, u32),
    citation: (u32, u32),
    text: (u32, u32),
}

impl Explanation {
    fn with_capacity() -> Self {
        Explanation {
            buf: String::with_capacity(4096),
            inputs: Vec::with_capacity(128),
            steps: Vec::with_capacity(24),
        }
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// True when there is no step (figures-only calculations).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The `i`-th step.
    pub fn get(&self, i: usize) -> Option<Step<'_>> {
        self.steps.get(i).map(|&m| Step { e: self, m })
    }

    /// The steps in order.
    pub fn iter(&self) -> impl Iterator<Item = Step<'_>> + '_ {
        self.steps.iter().map(move |&m| Step { e: self, m })
    }

    fn slice(&self, (a, b): (u32, u32)) -> &str {
        self.buf.get(a as usize..b as usize).unwrap_or("")
    }
}

/// One step of the explanation: `{ step, formula, inputs: { name: value, … }, result,
/// citation, text }`.
#[derive(Clone, Copy)]
pub struct Step<'a> {
    e: &'a Explanation,
    m: StepMeta,
}

impl<'a> Step<'a> {
    /// Stable id: `average_headcount`, `disabled_employee` (one per roster entry),
    /// `disabled_counted`, `required`, `shortfall`, `average_wage`, `wage_cap`, `fee_due`,
    /// `employment_ratio`, `exemption`, `reduction`, `payable`, `over_quota`, `reward`.
    pub fn step(&self) -> &'static str {
        self.m.step
    }

    /// The formula, in the notation of docs/rules.md §5.
    pub fn formula(&self) -> &'static str {
        self.m.formula
    }

    /// The values that went in, by name, in order.
    pub fn inputs(&self) -> impl Iterator<Item = (&'static str, &'a str)> + 'a {
        let e = self.e;
        let (a, b) = self.m.inputs;
        e.inputs
            .get(a as usize..b as usize)
            .unwrap_or(&[])
            .iter()
            .map(move |&(name, x, y)| (name, e.slice((x, y))))
    }

    /// The input called `name`.
    pub fn input(&self, name: &str) -> Option<&'a str> {
        self.inputs().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The result.
    pub fn result(&self) -> &'a str {
        self.e.slice(self.m.result)
    }

    /// The legal source of the rule or value.
    pub fn citation(&self) -> &'a str {
        self.e.slice(self.m.citation)
    }

    /// The step as a sentence.
    pub fn text(&self) -> &'a str {
        self.e.slice(self.m.text)
    }
}

impl fmt::Debug for Step<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Step")
            .field("step", &self.step())
            .field("formula", &self.formula())
            .field("inputs", &self.inputs().collect::<Vec<_>>())
            .field("result", &self.result())
            .field("citation", &self.citation())
            .field("text", &self.text())
            .finish()
    }
}

impl fmt::Debug for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

struct Inputs<'a>(Step<'a>);

impl Serialize for Inputs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (k, v) in self.0.inputs() {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Serialize for Step<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(6))?;
        m.serialize_entry("step", self.step())?;
        m.serialize_entry("formula", self.formula())?;
        m.serialize_entry("inputs", &Inputs(*self))?;
        m.serialize_entry("result", self.result())?;
        m.serialize_entry("citation", self.citation())?;
        m.serialize_entry("text", self.text())?;
        m.end()
    }
}

impl Serialize for Explanation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// A piece of explanation text: written straight into the buffer, without the
/// formatting machinery (which cost a fifth of an explained calculation).
trait Piece {
    fn put(&self, buf: &mut String);
}

impl Piece for str {
    fn put(&self, buf: &mut String) {
        buf.push_str(self);
    }
}

impl Piece for Num {
    fn put(&self, buf: &mut String) {
        buf.push_str(self.as_str());
    }
}

/// "0" to "99" as text, for the small integers of the explanation.
#[rustfmt::skip]
const SMALL: [&str; 100] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47", "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61", "62", "63", "64", "65", "66", "67", "68", "69", "70", "71", "72", "73", "74", "75", "76", "77", "78", "79", "80", "81", "82", "83", "84", "85", "86", "87", "88", "89", "90", "91", "92", "93", "94", "95", "96", "97", "98", "99"];

macro_rules! int_piece {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            fn put(&self, buf: &mut String) {
                let v = *self as u64;
                match SMALL.get(v as usize) {
                    Some(s) if v < 100 => buf.push_str(s),
                    _ => buf.push_str(Num::uint(v).as_str()),
                }
            }
        }
    )*};
}
int_piece!(u8, u32, usize);

impl<T: Piece + ?Sized> Piece for &T {
    fn put(&self, buf: &mut String) {
        (**self).put(buf);
    }
}

/// Appends the pieces to the step's text: `cat!(t; "N = ", n, "。")`.
macro_rules! cat {
    ($t:expr; $($p:expr),+ $(,)?) => {
        $t$(.p(&$p))+
    };
}

/// Builds one step at the end of the explanation: inputs, result and citation first,
/// then the text.
struct B<'s> {
    e: &'s mut Explanation,
    m: StepMeta,
}

fn begin<'s>(e: &'s mut Explanation, step: &'static str, formula: &'static str) -> B<'s> {
    let i = u32::try_from(e.inputs.len()).unwrap_or(u32::MAX);
    let z = (0, 0);
    B {
        e,
        m: StepMeta {
            step,
            formula,
            inputs: (i, i),
            result: z,
            citation: z,
            text: z,
        },
    }
}

impl Drop for B<'_> {
    /// The step is complete when its builder goes out of scope.
    fn drop(&mut self) {
        self.e.steps.push(self.m);
    }
}

impl B<'_> {
    fn len(&self) -> u32 {
        u32::try_from(self.e.buf.len()).unwrap_or(u32::MAX)
    }

    fn buf(&mut self) -> &mut String {
        &mut self.e.buf
    }

    fn put(&mut self, v: &str) -> (u32, u32) {
        let a = self.len();
        self.e.buf.push_str(v);
        (a, self.len())
    }

    fn input(&mut self, name: &'static str, v: &str) -> &mut Self {
        let (a, b) = self.put(v);
        self.e.inputs.push((name, a, b));
        self.m.inputs.1 += 1;
        self
    }

    /// An input whose value was written into the buffer from `start` on.
    fn input_from(&mut self, name: &'static str, start: u32) -> &mut Self {
        let end = self.len();
        self.e.inputs.push((name, start, end));
        self.m.inputs.1 += 1;
        self
    }

    fn result(&mut self, v: &str) -> &mut Self {
        self.m.result = self.put(v);
        self
    }

    fn citation(&mut self, v: &str) -> &mut Self {
        self.m.citation = self.put(v);
        self
    }

    /// A citation made of parts.
    fn citation_parts(&mut self, parts: &[&str]) -> &mut Self {
        let a = self.len();
        for p in parts {
            self.e.buf.push_str(p);
        }
        self.m.citation = (a, self.len());
        self
    }

    /// Starts the text; everything written from here on is the text.
    fn text(&mut self) -> &mut Self {
        let a = self.len();
        self.m.text = (a, a);
        self
    }

    fn s(&mut self, v: &str) -> &mut Self {
        self.e.buf.push_str(v);
        self.m.text.1 = self.len();
        self
    }

    /// Appends one piece of text.
    fn p<P: Piece + ?Sized>(&mut self, v: &P) -> &mut Self {
        v.put(&mut self.e.buf);
        self.m.text.1 = self.len();
        self
    }
}

/// A parameter value as used: the resolved, cited value or a what-if override.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Used<'a> {
    pub(crate) value: Decimal,
    pub(crate) cited: Option<&'a Cited<Decimal>>,
}

/// An exact count and its display for people (4 decimals at most, trailing zeros
/// dropped), computed once per calculation.
#[derive(Clone, Copy)]
struct Tw {
    exact: Num,
    shown: Num,
    /// True when `shown` is rounded (the exact value has more than 4 decimals).
    rounded: bool,
}

impl Tw {
    fn of(t: Twelfths) -> Tw {
        Tw {
            exact: Num::exact(t),
            shown: Num::people(t),
            rounded: t.exact_decimal_raw() != Some(t.round(4)),
        }
    }
}

/// Builds the steps. Only constructed in [`ExplainMode::Full`].
pub(crate) struct Explainer {
    lang: Language,
    pub(crate) expl: Explanation,
    n: Option<Tw>,
    d: Option<Tw>,
    req: Option<Tw>,
    /// Money figures shown in several steps (W_used, fee_due), formatted once.
    money: [Option<(Decimal, Num)>; 2],
}

/// The money text of `d`, formatted once per calculation when it recurs.
fn money(cache: &mut [Option<(Decimal, Num)>; 2], d: Decimal) -> Num {
    if let Some((_, n)) = cache.iter().flatten().find(|(v, _)| *v == d) {
        return *n;
    }
    let n = Num::money(d);
    if let Some(slot) = cache.iter_mut().find(|s| s.is_none()) {
        *slot = Some((d, n));
    }
    n
}

fn tw(cache: &mut Option<Tw>, t: Twelfths) -> Tw {
    *cache.get_or_insert_with(|| Tw::of(t))
}

/// Where the engine's own rules come from, step by step: the national levy rules and the
/// section of the project's rules document that states them.
const CITE_STAFF: &str = "财税〔2015〕72号; docs/rules.md §4.1";
const CITE_DISABLED: &str = "财税〔2015〕72号; docs/rules.md §4.2";
const CITE_LEVY: &str = "财税〔2015〕72号; docs/rules.md §5";
const CITE_OVER_QUOTA: &str = "残疾人就业条例; docs/rules.md §7";

/// A count of people with its unit: "2.4 人", "1 person", "2.4 people".
struct Ppl(Num, bool);

impl Piece for Ppl {
    fn put(&self, buf: &mut String) {
        buf.push_str(self.0.as_str());
        buf.push_str(match (self.1, self.0.as_str()) {
            (true, _) => " 人",
            (false, "1") => " person",
            (false, _) => " people",
        });
    }
}

/// An amount with its unit: "25,920.00 元", "25,920.00 yuan".
struct Yuan(Num, bool);

impl Yuan {
    fn of(d: Decimal, zh: bool) -> Yuan {
        Yuan(Num::yuan(d), zh)
    }
}

impl Piece for Yuan {
    fn put(&self, buf: &mut String) {
        buf.push_str(self.0.as_str());
        buf.push_str(if self.1 { " 元" } else { " yuan" });
    }
}

/// A date as a person reads it: "2015年1月1日", "2015-01-01".
struct Day(NaiveDate, bool);

impl Piece for Day {
    fn put(&self, buf: &mut String) {
        let d = self.0;
        if self.1 && (0..=9999).contains(&d.year()) {
            Num::uint(d.year().unsigned_abs().into()).put(buf);
            buf.push('年');
            d.month().put(buf);
            buf.push('月');
            d.day().put(buf);
            buf.push('日');
        } else {
            Num::date(d).put(buf);
        }
    }
}

/// A count of people as shown, with "约" / "about" when it is rounded, so that no one
/// mistakes 32.3333 for the exact value the calculation used.
struct Cnt(Tw, bool);

impl Piece for Cnt {
    fn put(&self, buf: &mut String) {
        if self.0.rounded {
            if self.1 {
                // "得约 32.3333 人": no space between Chinese words.
                if buf.ends_with(' ') {
                    buf.pop();
                }
                buf.push_str("约 ");
            } else {
                buf.push_str("about ");
            }
        }
        Ppl(self.0.shown, self.1).put(buf);
    }
}

/// The sentence with its first letter in lower case, to follow a label ("…: over quota").
fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) if f.is_ascii_uppercase() => f.to_ascii_lowercase().to_string() + c.as_str(),
        _ => s.to_owned(),
    }
}

/// The English name of an employer kind, for the English texts.
fn kind_en(kind: EmployerKind) -> &'static str {
    match kind {
        EmployerKind::Enterprise => "an enterprise",
        EmployerKind::GovernmentAgency => "a government agency",
        EmployerKind::PublicInstitution => "a public institution",
        EmployerKind::SocialOrganization => "a social organization",
        EmployerKind::PrivateNonEnterprise => "a private non-enterprise unit",
    }
}

impl Explainer {
    pub(crate) fn new(lang: Language) -> Self {
        Explainer {
            lang,
            expl: Explanation::with_capacity(),
            n: None,
            d: None,
            req: None,
            money: [None, None],
        }
    }

    pub(crate) fn average_headcount(&mut self, staff: &Staff, n: Twelfths) {
        let nn = tw(&mut self.n, n);
        let zh = self.lang == Language::Zh;
        match staff {
            Staff::Monthly(h) => {
                let mut list = Num::EMPTY;
                for (i, x) in h.iter().enumerate() {
                    if i > 0 {
                        list.push(b',');
                    }
                    list.push_u128(u128::from(*x));
                }
                let sum = Num::dec(n.twelfths());
                let mut t = begin(
                    &mut self.expl,
                    "average_headcount",
                    "N = (h1 + h2 + … + h12) / 12",
                );
                t.input("monthly_headcount", list.as_str())
                    .input("sum", sum.as_str())
                    .result(nn.exact.as_str())
                    .citation(CITE_STAFF)
                    .text();
                let sum_g = sum.grouped();
                if zh {
                    cat!(t; "在职职工年平均人数：各月末在职职工人数相加为 ", sum_g, "，除以 12 个月，得 ", Cnt(nn, zh));
                    if nn.rounded {
                        t.s("（计算中使用未经四舍五入的精确值）");
                    }
                    t.s("。");
                } else {
                    cat!(t; "Average in-service staff: the month-end headcounts add up to ", sum_g, "; divided by 12 months, that is ", Cnt(nn, zh));
                    if nn.rounded {
                        t.s(" (the calculation uses the exact value, not the rounded one)");
                    }
                    t.s(".");
                }
            }
            Staff::Average(a) => {
                // A rounded twelfth taken as that twelfth (see `calculate`) names it.
                let snapped = Twelfths::from_value(*a) != Some(n);
                let mut t = begin(&mut self.expl, "average_headcount", "N = average_headcount");
                t.input("average_headcount", Num::dec(*a).as_str());
                if snapped {
                    t.input("taken_as", nn.exact.as_str());
                }
                t.result(nn.exact.as_str()).citation(CITE_STAFF).text();
                if snapped {
                    if zh {
                        cat!(t; "在职职工年平均人数申报为 ", Num::dec(*a), "，是 ", Cnt(nn, zh), " 四舍五入到 4 位小数的结果，按 ", Cnt(nn, zh), " 计算。");
                    } else {
                        cat!(t; "Average in-service staff declared as ", Num::dec(*a), ", which is ", Cnt(nn, zh), " rounded to 4 decimals; counted as ", Cnt(nn, zh), ".");
                    }
                } else if zh {
                    cat!(t; "在职职工年平均人数按申报值计：", Cnt(nn, zh), "。");
                } else {
                    cat!(t; "Average in-service staff, as declared: ", Cnt(nn, zh), ".");
                }
            }
        }
    }

    pub(crate) fn disabled_employee(
        &mut self,
        e: &DisabledEmployee,
        o: &EmployeeOutcome,
        policy: &ResolvedPolicy,
        mw: &MinimumWages<'_>,
    ) {
        let lang = self.lang;
        let zh = lang == Language::Zh;
        let (kind_zh, kind_en) = match e.certificate {
            Certificate::Disability(_) => ("残疾人证", "disability certificate"),
            Certificate::Veteran { .. } => ("残疾军人证", "disabled veteran's certificate"),
        };
        let employed = Num::months(o.employed);
        let weighted = Num::uint(u64::from(o.weighted_months()));
        let rule = &policy.fresh_graduate_full_year;
        let mut t = begin(
            &mut self.expl,
            "disabled_employee",
            "weighted_months = weight × counted_months",
        );
        t.input("index", Num::uint(o.index as u64).as_str());
        // The masked number goes straight into the buffer.
        let a = t.len();
        match &e.certificate {
            Certificate::Disability(c) => c.write_masked(t.buf()),
            Certificate::Veteran { number, .. } => number.write_masked(t.buf()),
        }
        t.input_from("certificate", a);
        t.input("certificate_kind", e.certificate.kind_str())
            .input("grade", Num::uint(u64::from(o.grade)).as_str())
            .input("weight", Num::uint(u64::from(o.weight)).as_str())
            .input("employed_months", employed.as_str())
            .input(
                "counted_months",
                Num::uint(u64::from(o.counted_months)).as_str(),
            );
        if !o.excluded.is_empty() {
            t.input("excluded_months", Num::months(o.excluded).as_str());
        }
        t.result(weighted.as_str());
        if o.fresh_graduate_applied {
            t.citation_parts(&[CITE_DISABLED, "; ", &rule.citation]);
        } else {
            t.citation(CITE_DISABLED);
        }
        t.text();
        // The masked number and the month list are inputs; the sentence gives the counts.
        // People number a roster from 1; the `index` input keeps the API's 0-based index.
        let (i, employed_n) = (o.index + 1, o.employed.len());
        if zh {
            cat!(t; "第 ", i, " 名残疾职工：", kind_zh, " ", o.grade, " 级，每月按 ", o.weight, " 人计；月末在职 ", employed_n, " 个月");
        } else {
            let each = if o.weight == 1 { " person" } else { " people" };
            cat!(t; "Disabled employee no. ", i, ": ", kind_en, " grade ", o.grade, ", counts as ", o.weight, each, " a month; employed at month end in ", employed_n, " months");
        }
        if !o.exclusions.is_empty() {
            t.s(lang.pick("；", "; "));
            write_exclusion_detail(t.buf(), o, e, mw, lang);
            t.s("");
        }
        if e.monthly_wage.is_none() {
            t.s(lang.pick(
                "；未申报月工资，工资条件未核对",
                "; no monthly wage given, wage condition not checked",
            ));
        } else if !o.minimum_wage_unknown.is_empty() {
            t.s(lang.pick("；", "; no minimum wage known for "));
            write_month_runs(t.buf(), o.minimum_wage_unknown, lang);
            t.s(lang.pick(
                "最低工资标准未知，未核对工资条件",
                ", wage condition not checked",
            ));
        }
        if e.fresh_graduate {
            t.s(if o.fresh_graduate_applied {
                lang.pick(
                    "；应届高校毕业生，当年计入超过 6 个月，按 12 个月计",
                    "; fresh college graduate counted more than 6 months: counts 12 months",
                )
            } else if !rule.value {
                lang.pick(
                    "；标为应届毕业生，但本地区无按全年计算的规定",
                    "; marked as fresh graduate, but no full-year rule is in force here",
                )
            } else {
                lang.pick(
                    "；应届毕业生按全年计算的规定未适用（须当年入职且计入超过 6 个月）",
                    "; fresh-graduate full-year rule not applied (needs hiring in the data year and more than 6 months counted)",
                )
            });
        }
        if zh {
            cat!(t; "；计入 ", o.counted_months, " 个月，共 ", weighted, " 人月。");
        } else {
            cat!(t; "; counted for ", o.counted_months, " months, ", weighted, " person-months in all.");
        }
    }

    pub(crate) fn disabled_counted(&mut self, disabled: &Disabled, d: Twelfths) {
        let dd = tw(&mut self.d, d);
        let zh = self.lang == Language::Zh;
        match disabled {
            Disabled::Roster(roster) => {
                let sum = Num::dec(d.twelfths());
                let mut t = begin(
                    &mut self.expl,
                    "disabled_counted",
                    "D = Σ(weight × counted_months) / 12",
                );
                t.input("weighted_months", sum.as_str())
                    .result(dd.exact.as_str())
                    .citation(CITE_DISABLED)
                    .text();
                let sum_g = sum.grouped();
                if roster.is_empty() {
                    t.s(self.lang.pick(
                        "安排残疾人就业人数：未申报残疾职工，按 0 人计。",
                        "Disabled employees: none declared, so 0.",
                    ));
                } else if zh {
                    cat!(t; "安排残疾人就业人数（年平均，重度残疾人按 2 人计）：各残疾职工计入的人月相加为 ", sum_g, "，除以 12 个月，得 ", Cnt(dd, zh), "。");
                } else {
                    cat!(t; "Disabled employees (annual average, a severely disabled person counted as two): the person-months counted add up to ", sum_g, "; divided by 12 months, that is ", Cnt(dd, zh), ".");
                }
            }
            Disabled::Certified(c) => {
                let mut t = begin(&mut self.expl, "disabled_counted", "D = disabled_count");
                t.input("disabled_count", Num::dec(*c).as_str())
                    .result(dd.exact.as_str())
                    .citation(CITE_DISABLED)
                    .text();
                if zh {
                    cat!(t; "安排残疾人就业人数按残疾人就业服务机构认定的年平均人数（重度残疾人按 2 人计）计：", Cnt(dd, zh), "。");
                } else {
                    cat!(t; "Disabled employees as certified by the disabled persons' employment service agency (annual average, a severely disabled person counted as two): ", Cnt(dd, zh), ".");
                }
            }
        }
    }

    pub(crate) fn required(&mut self, n: Twelfths, q: Used<'_>, required: Twelfths) {
        let nn = tw(&mut self.n, n);
        let rr = tw(&mut self.req, required);
        let zh = self.lang == Language::Zh;
        let pct = Num::pct(q.value);
        let mut t = begin(&mut self.expl, "required", "required = N × q");
        t.input("N", nn.exact.as_str())
            .input("q", Num::dec(q.value).as_str())
            .result(rr.exact.as_str());
        match q.cited {
            Some(c) => t.citation(&c.citation),
            None => t.citation("overrides.quota_ratio (what-if)"),
        };
        t.text();
        let what_if = match (q.cited.is_none(), zh) {
            (false, _) => "",
            (true, true) => "（安排比例为本次试算给定的假设值）",
            (true, false) => " (a what-if quota ratio)",
        };
        if zh {
            cat!(t; "应安排残疾人就业人数：在职职工 ", Cnt(nn, zh), "的 ", pct, what_if, "，即 ", Cnt(rr, zh), "。");
        } else {
            cat!(t; "Required disabled employees: ", pct, what_if, " of ", Cnt(nn, zh), " on the staff, that is ", Cnt(rr, zh), ".");
        }
    }

    pub(crate) fn shortfall(&mut self, required: Twelfths, d: Twelfths, shortfall: Twelfths) {
        let rr = tw(&mut self.req, required);
        let dd = tw(&mut self.d, d);
        let ss = Tw::of(shortfall);
        let zh = self.lang == Language::Zh;
        let mut t = begin(
            &mut self.expl,
            "shortfall",
            "shortfall = max(0, required − D)",
        );
        t.input("required", rr.exact.as_str())
            .input("D", dd.exact.as_str())
            .result(ss.exact.as_str())
            .citation(CITE_LEVY)
            .text();
        let (r, d) = (Cnt(rr, zh), Cnt(dd, zh));
        match (zh, shortfall.is_zero()) {
            (true, false) => {
                cat!(t; "差额人数：应安排 ", r, "，实际安排 ", d, "，差 ", Cnt(ss, zh), "。")
            }
            (true, true) => {
                cat!(t; "差额人数：应安排 ", r, "，实际安排 ", d, "，已达到规定比例，差额为 0。")
            }
            (false, false) => {
                cat!(t; "Shortfall: ", r, " required, ", d, " counted; ", Cnt(ss, zh), " short.")
            }
            (false, true) => {
                cat!(t; "Shortfall: ", r, " required, ", d, " counted; the quota is met, shortfall 0.")
            }
        };
    }

    pub(crate) fn fee_no_staff(&mut self) {
        let text = self.lang.pick(
            "在职职工人数为 0：无应安排人数，无需缴纳保障金，也无从计算年平均工资。",
            "No in-service staff: nothing is required or payable, and there is no average wage.",
        );
        begin(&mut self.expl, "fee_due", "fee_due = 0 (N = 0)")
            .input("N", "0")
            .result("0.00")
            .citation(CITE_LEVY)
            .text()
            .s(text);
    }

    pub(crate) fn average_wage(&mut self, wages: Option<Wages>, n: Twelfths, w: Decimal) {
        let nn = tw(&mut self.n, n);
        let shown = Num::money(w);
        let zh = self.lang == Language::Zh;
        match wages {
            Some(Wages::Total(total)) => {
                let total_s = Num::money(total);
                let mut t = begin(
                    &mut self.expl,
                    "average_wage",
                    "W = round2(total_wages / N)",
                );
                t.input("total_wages", total_s.as_str())
                    .input("N", nn.exact.as_str())
                    .result(shown.as_str())
                    .citation(CITE_LEVY)
                    .text();
                let (total, avg) = (Yuan::of(total, zh), Yuan::of(w, zh));
                if zh {
                    cat!(t; "在职职工年平均工资：工资总额 ", total, "，除以年平均人数 ", Cnt(nn, zh), "，得 ", avg, "（四舍五入到分）。");
                } else {
                    cat!(t; "Average annual wage: total wages of ", total, " divided by the average staff of ", Cnt(nn, zh), ", that is ", avg, " (rounded to the fen).");
                }
            }
            _ => {
                let mut t = begin(&mut self.expl, "average_wage", "W = average_wage");
                t.input("average_wage", shown.as_str())
                    .result(shown.as_str())
                    .citation(CITE_LEVY)
                    .text();
                if zh {
                    cat!(t; "在职职工年平均工资按申报值计：", Yuan::of(w, zh), "。");
                } else {
                    cat!(t; "Average annual wage, as declared: ", Yuan::of(w, zh), ".");
                }
            }
        }
    }

    pub(crate) fn wage_cap(
        &mut self,
        w: Decimal,
        k: &Cited<Decimal>,
        s: Decimal,
        s_cited: Option<&Cited<Decimal>>,
        cap: Decimal,
        used: Decimal,
    ) {
        let (w_s, s_s, used_s, k_s) = (
            Num::money(w),
            Num::money(s),
            money(&mut self.money, used),
            Num::dec(k.value),
        );
        let zh = self.lang == Language::Zh;
        let s_cite = s_cited.map_or("overrides.social_average_wage (what-if)", |c| {
            c.citation.as_str()
        });
        let mut t = begin(&mut self.expl, "wage_cap", "W_used = min(W, k × S)");
        t.input("W", w_s.as_str())
            .input("k", k_s.as_str())
            .input("S", s_s.as_str())
            .result(used_s.as_str())
            .citation_parts(&[&k.citation, "; S: ", s_cite])
            .text();
        // A what-if value is not the region's figure: the sentence says so.
        let s_note = match (s_cited.is_none(), zh) {
            (false, _) => "",
            (true, true) => "（本次试算给定的假设值）",
            (true, false) => " (the what-if value given)",
        };
        let (w_y, s_y, cap_y) = (
            Yuan(w_s.grouped(), zh),
            Yuan(s_s.grouped(), zh),
            Yuan::of(cap, zh),
        );
        match (zh, w > cap) {
            (true, true) => {
                cat!(t; "计征工资：封顶为当地社会平均工资 ", s_y, s_note, "的 ", k_s, " 倍，即 ", cap_y, "；年平均工资 ", w_y, "高于封顶，按封顶计征。")
            }
            (true, false) => {
                cat!(t; "计征工资：封顶为当地社会平均工资 ", s_y, s_note, "的 ", k_s, " 倍，即 ", cap_y, "；年平均工资 ", w_y, "未超过封顶，按年平均工资计征。")
            }
            (false, true) => {
                cat!(t; "Wage used for the levy: the cap is ", k_s, " times the local social average wage of ", s_y, s_note, ", that is ", cap_y, "; the average wage of ", w_y, " is above it, so the cap is used.")
            }
            (false, false) => {
                cat!(t; "Wage used for the levy: the cap is ", k_s, " times the local social average wage of ", s_y, s_note, ", that is ", cap_y, "; the average wage of ", w_y, " is not above it, so the average wage is used.")
            }
        };
    }

    pub(crate) fn no_wage_cap(&mut self, w: Decimal) {
        let w_s = Num::money(w);
        let zh = self.lang == Language::Zh;
        let mut t = begin(&mut self.expl, "wage_cap", "W_used = W");
        t.input("W", w_s.as_str())
            .result(w_s.as_str())
            .citation(CITE_LEVY)
            .text();
        let w_y = Yuan(w_s.grouped(), zh);
        if zh {
            cat!(t; "计征工资：此时无工资封顶规定，按年平均工资 ", w_y, "计征。");
        } else {
            cat!(t; "Wage used for the levy: no wage cap is in force, so the average wage, ", w_y, ", is used.");
        }
    }

    pub(crate) fn fee_due(&mut self, shortfall: Twelfths, used: Decimal, fee: Decimal) {
        let ss = Tw::of(shortfall);
        let (used_s, fee_s) = (money(&mut self.money, used), money(&mut self.money, fee));
        let zh = self.lang == Language::Zh;
        let mut t = begin(
            &mut self.expl,
            "fee_due",
            "fee_due = round2(shortfall × W_used)",
        );
        t.input("shortfall", ss.exact.as_str())
            .input("W_used", used_s.as_str())
            .result(fee_s.as_str())
            .citation(CITE_LEVY)
            .text();
        let (used_y, fee_y) = (Yuan(used_s.grouped(), zh), Yuan(fee_s.grouped(), zh));
        match (zh, shortfall.is_zero()) {
            (true, false) => {
                cat!(t; "应缴保障金：差额人数 ", Cnt(ss, zh), "乘以计征工资 ", used_y, "，得 ", fee_y, "（四舍五入到分）。")
            }
            (true, true) => cat!(t; "应缴保障金：无差额人数，应缴 ", fee_y, "。"),
            (false, false) => {
                cat!(t; "Fee due: the shortfall of ", Cnt(ss, zh), " times the wage used, ", used_y, ", is ", fee_y, " (rounded to the fen).")
            }
            (false, true) => cat!(t; "Fee due: no shortfall, so ", fee_y, "."),
        };
    }

    pub(crate) fn employment_ratio(&mut self, d: Twelfths, n: Twelfths) {
        let dd = tw(&mut self.d, d);
        let nn = tw(&mut self.n, n);
        let r = exact::mul_div_round(&[d.twelfths()], n.twelfths(), 6).unwrap_or_default();
        let r_s = Num::fixed(r, 6);
        // The percentage is the same 6-decimal quotient, shifted: no second rounding.
        let p_s = Num::dec(r * Decimal::ONE_HUNDRED);
        let rounded = r.checked_mul(n.twelfths()) != Some(d.twelfths());
        let zh = self.lang == Language::Zh;
        let mut t = begin(&mut self.expl, "employment_ratio", "r = D / N");
        t.input("D", dd.exact.as_str())
            .input("N", nn.exact.as_str())
            .result(r_s.as_str())
            .citation(CITE_LEVY)
            .text();
        let a = match (rounded, zh) {
            (false, _) => "",
            (true, true) => "约",
            (true, false) => "about ",
        };
        if zh {
            cat!(t; "残疾人就业比例：安排残疾人 ", Cnt(dd, zh), "，占在职职工 ", Cnt(nn, zh), "的", a, " ", p_s, "%。");
        } else {
            cat!(t; "Employment ratio: ", Cnt(dd, zh), " counted as disabled out of ", Cnt(nn, zh), " on the staff, that is ", a, p_s, "%.");
        }
    }

    pub(crate) fn exemption(
        &mut self,
        policy: &ResolvedPolicy,
        input: &LevyInput,
        n: Twelfths,
        exempt: bool,
    ) {
        let nn = tw(&mut self.n, n);
        let rule = &policy.exemption;
        let lang = self.lang;
        let zh = lang == Language::Zh;
        let kind = input.employer_kind;
        let result = if exempt { "true" } else { "false" };
        match rule.value {
            ExemptionRule::None => {
                begin(
                    &mut self.expl,
                    "exemption",
                    "exempt = false (no exemption in force)",
                )
                .input("employer_kind", kind.as_str())
                .result(result)
                .citation(&rule.citation)
                .text()
                .s(lang.pick(
                    "小微企业免征：此时无小微企业免征规定。",
                    "Small-enterprise exemption: none is in force.",
                ));
            }
            ExemptionRule::SmallEnterprise {
                max_staff,
                max_years_since_registration,
            } => {
                let formula = if max_years_since_registration.is_some() {
                    "exempt = enterprise ∧ N ≤ max_staff ∧ as_of ≤ registered_on + max_years"
                } else {
                    "exempt = enterprise ∧ N ≤ max_staff"
                };
                let max_s = Num::uint(u64::from(max_staff));
                let mut t = begin(&mut self.expl, "exemption", formula);
                t.input("employer_kind", kind.as_str())
                    .input("N", nn.exact.as_str())
                    .input("max_staff", max_s.as_str());
                let window = match max_years_since_registration {
                    Some(years) => {
                        t.input(
                            "max_years_since_registration",
                            Num::uint(u64::from(years)).as_str(),
                        )
                        .input("as_of", Num::date(policy.as_of).as_str());
                        if let Some(r) = input.registered_on {
                            t.input("registered_on", Num::date(r).as_str());
                        }
                        input.registered_on.map(|r| (years, r))
                    }
                    None => None,
                };
                t.result(result).citation(&rule.citation).text();
                if kind != EmployerKind::Enterprise {
                    if zh {
                        cat!(t; "小微企业免征：仅适用于企业；", kind.name_zh(), "不适用，不论人数多少。");
                    } else {
                        cat!(t; "Small-enterprise exemption: enterprises only; ", kind_en(kind), " is never exempt, whatever its size.");
                    }
                    return;
                }
                let max_p = Ppl(max_s.grouped(), zh);
                if zh {
                    cat!(t; "小微企业免征：在职职工总数 ", max_p, "（含）以下的企业");
                } else {
                    cat!(t; "Small-enterprise exemption: enterprises with at most ", max_p, " on the staff (inclusive)");
                }
                if let Some((y, r)) = window {
                    let end = super::add_years(r, y);
                    let (reg, asof) = (Day(r, zh), Day(policy.as_of, zh));
                    if zh {
                        cat!(t; "，自工商登记注册之日（", reg, "）起 ", y, " 年内");
                        if let Some(end) = end {
                            cat!(t; "（至 ", Day(end, zh), "）");
                        }
                        cat!(t; "，免征保障金（按申报日 ", asof, "判断）");
                    } else {
                        cat!(t; " are exempt within ", y, " years of business registration (", reg);
                        if let Some(end) = end {
                            cat!(t; ", so until ", Day(end, zh));
                        }
                        cat!(t; ", tested on the filing date ", asof, ")");
                    }
                } else {
                    t.s(lang.pick("免征保障金", " are exempt"));
                }
                let n_p = Cnt(nn, zh);
                match (exempt, zh) {
                    (true, true) => cat!(t; "。本单位在职职工 ", n_p, "，免征。"),
                    (false, true) => cat!(t; "。本单位在职职工 ", n_p, "，不符合免征条件。"),
                    (true, false) => cat!(t; ". This employer has ", n_p, " on the staff: exempt."),
                    (false, false) => {
                        cat!(t; ". This employer has ", n_p, " on the staff: not exempt.")
                    }
                };
            }
        }
    }

    pub(crate) fn reduction(
        &mut self,
        tiers: &Cited<ReductionTiers>,
        fee: Decimal,
        d: Twelfths,
        n: Twelfths,
        share: Decimal,
        reduction: Decimal,
    ) {
        let dd = tw(&mut self.d, d);
        let nn = tw(&mut self.n, n);
        let zh = self.lang == Language::Zh;
        let tv = &tiers.value;
        let (fee_s, red_s, share_s) = (
            money(&mut self.money, fee),
            Num::money(reduction),
            Num::dec(share),
        );
        let (th, sh) = (Num::pct(tv.threshold), Num::pct(share));
        let mut t = begin(
            &mut self.expl,
            "reduction",
            "reduction = round2(fee_due × (1 − share)); share = share_at_or_above if D ≥ threshold × N, else share_below",
        );
        t.input("fee_due", fee_s.as_str())
            .input("D", dd.exact.as_str())
            .input("N", nn.exact.as_str())
            .input("threshold", Num::dec(tv.threshold).as_str())
            .input("share_at_or_above", Num::dec(tv.share_at_or_above).as_str())
            .input("share_below", Num::dec(tv.share_below).as_str())
            .input("share", share_s.as_str())
            .result(red_s.as_str())
            .citation(&tiers.citation)
            .text();
        let (fee_y, red_y) = (Yuan(fee_s.grouped(), zh), Yuan(red_s.grouped(), zh));
        let above = share == tv.share_at_or_above;
        match (zh, above) {
            (true, true) => {
                cat!(t; "分档减缴：残疾人就业比例达到 ", th, "（含）以上，按应缴保障金 ", fee_y, "的 ", sh, " 缴纳，减免 ", red_y, "。")
            }
            (true, false) => {
                cat!(t; "分档减缴：残疾人就业比例低于 ", th, "，按应缴保障金 ", fee_y, "的 ", sh, " 缴纳，减免 ", red_y, "。")
            }
            (false, true) => {
                cat!(t; "Tiered reduction: the employment ratio is ", th, " or more, so ", sh, " of the fee of ", fee_y, " is payable; reduction ", red_y, ".")
            }
            (false, false) => {
                cat!(t; "Tiered reduction: the employment ratio is below ", th, ", so ", sh, " of the fee of ", fee_y, " is payable; reduction ", red_y, ".")
            }
        };
    }

    pub(crate) fn no_reduction(&mut self, tiers_in_force: bool, exempt: bool, no_shortfall: bool) {
        let text = if !tiers_in_force {
            self.lang.pick(
                "分档减缴：此时无分档减缴规定，减免 0.00 元。",
                "Tiered reduction: no reduction tiers are in force; reduction 0.00 yuan.",
            )
        } else if exempt {
            self.lang.pick(
                "分档减缴：已免征，不再分档减缴，减免 0.00 元。",
                "Tiered reduction: exempt, so no tier applies; reduction 0.00 yuan.",
            )
        } else if no_shortfall {
            self.lang.pick(
                "分档减缴：已达到规定比例，无应缴保障金可减，减免 0.00 元。",
                "Tiered reduction: the quota is met and nothing is due; reduction 0.00 yuan.",
            )
        } else {
            self.lang
                .pick("分档减缴：减免 0.00 元。", "Tiered reduction: 0.00 yuan.")
        };
        begin(&mut self.expl, "reduction", "reduction = 0")
            .result("0.00")
            .citation(CITE_LEVY)
            .text()
            .s(text);
    }

    pub(crate) fn payable(
        &mut self,
        policy: &ResolvedPolicy,
        fee: Decimal,
        red: Decimal,
        exempt: bool,
        pay: Decimal,
    ) {
        let (fee_s, red_s, pay_s) = (
            money(&mut self.money, fee),
            Num::money(red),
            Num::money(pay),
        );
        let zh = self.lang == Language::Zh;
        let (fee_y, red_y, pay_y) = (
            Yuan(fee_s.grouped(), zh),
            Yuan(red_s.grouped(), zh),
            Yuan(pay_s.grouped(), zh),
        );
        if exempt {
            let mut t = begin(&mut self.expl, "payable", "payable = 0 (exempt)");
            t.input("fee_due", fee_s.as_str())
                .input("exempt", "true")
                .result(pay_s.as_str())
                .citation(&policy.exemption.citation)
                .text();
            if zh {
                cat!(t; "实际应缴：符合免征条件，应缴保障金 ", fee_y, "予以免征，实际应缴 ", pay_y, "。");
            } else {
                cat!(t; "Levy payable: exempt, so the fee of ", fee_y, " is waived; payable ", pay_y, ".");
            }
        } else {
            let mut t = begin(&mut self.expl, "payable", "payable = fee_due − reduction");
            t.input("fee_due", fee_s.as_str())
                .input("reduction", red_s.as_str())
                .result(pay_s.as_str())
                .citation(CITE_LEVY)
                .text();
            if fee.is_zero() {
                t.s(self.lang.pick(
                    "实际应缴：无应缴保障金，实际应缴 0.00 元。",
                    "Levy payable: nothing is due; payable 0.00 yuan.",
                ));
            } else if red.is_zero() {
                if zh {
                    cat!(t; "实际应缴：无减免，实际应缴 ", pay_y, "。");
                } else {
                    cat!(t; "Levy payable: no reduction, so ", pay_y, ".");
                }
            } else if zh {
                cat!(t; "实际应缴：应缴保障金 ", fee_y, "减去减免 ", red_y, "，实际应缴 ", pay_y, "。");
            } else {
                cat!(t; "Levy payable: the fee of ", fee_y, " less the reduction of ", red_y, ", that is ", pay_y, ".");
            }
        }
    }

    pub(crate) fn over_quota(&mut self, d: Twelfths, required: Twelfths, over: Twelfths) {
        let dd = tw(&mut self.d, d);
        let rr = tw(&mut self.req, required);
        let oo = Tw::of(over);
        let zh = self.lang == Language::Zh;
        let mut t = begin(
            &mut self.expl,
            "over_quota",
            "over_quota = max(0, D − required)",
        );
        t.input("D", dd.exact.as_str())
            .input("required", rr.exact.as_str())
            .result(oo.exact.as_str())
            .citation(CITE_OVER_QUOTA)
            .text();
        let (d, r) = (Cnt(dd, zh), Cnt(rr, zh));
        match (zh, over.is_zero()) {
            (true, false) => {
                cat!(t; "超比例安排人数：实际安排 ", d, "，应安排 ", r, "，超出 ", Cnt(oo, zh), "。")
            }
            (true, true) => {
                cat!(t; "超比例安排人数：实际安排 ", d, "，未超过应安排的 ", r, "，无超比例人数。")
            }
            (false, false) => {
                cat!(t; "Over quota: ", d, " counted, ", r, " required; ", Cnt(oo, zh), " over.")
            }
            (false, true) => {
                cat!(t; "Over quota: ", d, " counted, no more than the ", r, " required, so none.")
            }
        };
    }

    pub(crate) fn reward(
        &mut self,
        policy: &ResolvedPolicy,
        input: &LevyInput,
        over: Twelfths,
        r: &RewardFigures,
    ) {
        let lang = self.lang;
        let zh = lang == Language::Zh;
        let citation = policy.reward.citation.as_str();
        let amount = Num::money(r.amount);
        if over.is_zero() {
            begin(&mut self.expl, "reward", "reward = 0 (over_quota = 0)")
                .result(amount.as_str())
                .citation(citation)
                .text()
                .s(lang.pick(
                    "超比例奖励：未超比例安排残疾人就业，无超比例奖励。",
                    "Over-quota reward: not over quota, so no reward.",
                ));
            return;
        }
        if let Some(w) = r.none_because {
            let message = w.message(policy, lang);
            begin(&mut self.expl, "reward", "reward = 0")
                .result(amount.as_str())
                .citation(citation)
                .text()
                .s(lang.pick("超比例奖励：", "Over-quota reward: "))
                .s(&lower_first(&message));
            return;
        }
        let persons = r.persons.unwrap_or(Twelfths::ZERO);
        let (base, pp) = (Num::exact(r.base_over), Tw::of(persons));
        let whole = matches!(
            policy.reward.value,
            RewardRule::MinimumWageMultiple {
                persons: RewardPersons::Whole,
                ..
            } | RewardRule::FixedPerPerson {
                persons: RewardPersons::Whole,
                ..
            }
        );
        if persons.is_zero() {
            // Whole persons only, and less than one: nothing to reward (no wage needed).
            begin(
                &mut self.expl,
                "reward",
                "reward = 0 (floor(over_quota) = 0)",
            )
            .input("over_quota", base.as_str())
            .input("persons", pp.exact.as_str())
            .result(amount.as_str())
            .citation(citation)
            .text()
            .s(lang.pick(
                "超比例奖励：超比例人数不足 1 人（按整人数计），无超比例奖励。",
                "Over-quota reward: less than one whole person over quota, so no reward.",
            ));
            return;
        }
        let persons_note = match (zh, whole) {
            (true, true) => "（按整人数计）",
            (false, true) => " (whole persons)",
            _ => "",
        };
        let amount_y = Yuan(amount.grouped(), zh);
        let p = Ppl(pp.shown, zh);
        match &policy.reward.value {
            RewardRule::MinimumWageMultiple {
                multiple,
                max_years,
                severe_counted_once,
                ..
            } => {
                let mw = r.minimum_wage.map(Num::money).unwrap_or(Num::EMPTY);
                let mult = Num::dec(*multiple);
                let formula = if whole {
                    "reward = round2(floor(over_quota) × multiple × minimum_wage)"
                } else {
                    "reward = round2(over_quota × multiple × minimum_wage)"
                };
                let once = *severe_counted_once && matches!(input.disabled, Disabled::Roster(_));
                // How the persons were counted, in one bracket.
                let how = match (zh, whole, once) {
                    (true, true, true) => "（按整人数计，重度残疾人只计一人）",
                    (true, false, true) => "（重度残疾人只计一人）",
                    (false, true, true) => {
                        " (whole persons, a severely disabled person counted once)"
                    }
                    (false, false, true) => " (a severely disabled person counted once)",
                    (_, _, false) => persons_note,
                };
                let mut t = begin(&mut self.expl, "reward", formula);
                t.input("over_quota", base.as_str())
                    .input("persons", pp.exact.as_str())
                    .input("multiple", mult.as_str())
                    .input("minimum_wage", mw.as_str())
                    .result(amount.as_str())
                    .citation(citation)
                    .text();
                let mw_y = Yuan(mw.grouped(), zh);
                if zh {
                    cat!(t; "超比例奖励：超比例人数 ", p, how, "，每人奖励上年末当地月最低工资 ", mw_y, "的 ", mult, " 倍，共 ", amount_y);
                } else {
                    cat!(t; "Over-quota reward: ", p, " over quota", how, ", each rewarded ", mult, " times the local monthly minimum wage at the end of the data year (", mw_y, "): ", amount_y);
                }
                match (max_years, zh) {
                    (Some(y), true) => cat!(t; "；同一单位最多奖励 ", y, " 年。"),
                    (Some(y), false) => cat!(t; "; at most ", y, " years per employer."),
                    (None, _) => t.s(lang.pick("。", ".")),
                };
            }
            RewardRule::FixedPerPerson {
                amount: per, cap, ..
            } => {
                let per_s = Num::money(*per);
                let mut t = begin(
                    &mut self.expl,
                    "reward",
                    "reward = min(cap, persons × amount_per_person)",
                );
                t.input("over_quota", base.as_str())
                    .input("persons", pp.exact.as_str())
                    .input("amount_per_person", per_s.as_str());
                if let Some(c) = cap {
                    t.input("cap", Num::money(*c).as_str());
                }
                t.result(amount.as_str()).citation(citation).text();
                let per_y = Yuan(per_s.grouped(), zh);
                if zh {
                    cat!(t; "超比例奖励：超比例人数 ", p, persons_note, "，每人 ", per_y);
                    if let Some(c) = cap {
                        cat!(t; "，每单位最高 ", Yuan::of(*c, zh));
                    }
                    cat!(t; "，共 ", amount_y, "。");
                } else {
                    cat!(t; "Over-quota reward: ", p, " over quota", persons_note, ", ", per_y, " each");
                    if let Some(c) = cap {
                        cat!(t; " (at most ", Yuan::of(*c, zh), " per employer)");
                    }
                    cat!(t; ": ", amount_y, ".");
                }
            }
            RewardRule::None { .. } => {}
        }
    }
}
