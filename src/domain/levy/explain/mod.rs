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
const CITE_DISPATCH: &str =
    "财税〔2015〕72号 第八条; 财政部公告2019年第98号 第二条; 发改价格规〔2019〕2015号 总体方案“合理认定按比例安排就业形式”; docs/rules.md §4.4";
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

// The steps, one file per stage of the calculation; each adds to `impl Explainer` and
// uses the text helpers above (declared after `cat!`, which is scoped textually).
mod levy;
mod reward;
mod staff;
