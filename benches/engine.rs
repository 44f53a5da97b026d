//! Calculations per second of the pure levy engine on a typical roster: 12 monthly
//! headcounts of about 200, five disabled employees with month lists, wages and
//! conditions (targets on one core, BENCHMARKS.md: are 1,000,000/s for the figures alone and
//! 200,000/s with the explanation).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use rust_decimal::Decimal;

use quota_levy::domain::ids::DisabilityCertificate;
use quota_levy::domain::levy::{
    calculate, Certificate, Disabled, DisabledEmployee, Employment, ExplainMode, LevyInput,
    MonthSet, Overrides, Staff, Wages,
};
use quota_levy::domain::policy::{
    Cited, ExemptionRule, ReductionTiers, ResolvedPolicy, RewardRule, SurchargeRule,
};
use quota_levy::domain::{EmployerKind, Language, RegionCode};

fn policy() -> ResolvedPolicy {
    let henan: RegionCode = "410000".parse().expect("code");
    let nat = RegionCode::NATIONAL;
    let c = |v: Decimal, cite: &str| Cited::new(v, cite, false, henan);
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 10, 31).expect("date");
    ResolvedPolicy {
        region: "411200".parse().expect("code"),
        as_of,
        data_year: 2024,
        quota_ratio: c(Decimal::new(16, 3), "河南省人民政府令第127号"),
        wage_cap_multiple: Some(Cited::new(
            Decimal::TWO,
            "财政部公告2023年第8号",
            false,
            nat,
        )),
        social_average_wage: Some(Cited::new(
            Decimal::new(86199, 0),
            "Henan statistics 2025-06-25",
            true,
            henan,
        )),
        minimum_wage_by_month: std::array::from_fn(|_| {
            Some(c(Decimal::new(2100, 0), "豫政〔2023〕43号"))
        }),
        exemption: Cited::new(
            ExemptionRule::SmallEnterprise {
                max_staff: 30,
                max_years_since_registration: None,
            },
            "财政部公告2023年第8号",
            false,
            nat,
        ),
        reduction_tiers: Some(Cited::new(
            ReductionTiers {
                threshold: Decimal::new(1, 2),
                share_at_or_above: Decimal::new(5, 1),
                share_below: Decimal::new(9, 1),
            },
            "财政部公告2023年第8号",
            false,
            nat,
        )),
        fresh_graduate_full_year: Cited::new(true, "郑州市2025年通知", true, henan),
        working_age: None,
        reward: Cited::new(
            RewardRule::None {
                note: "no rule".into(),
            },
            "三政〔2016〕23号",
            true,
            henan,
        ),
        surcharge: Cited::new(
            SurchargeRule {
                daily_rate: Decimal::new(5, 3),
                capped_at_principal: true,
            },
            "财税〔2015〕72号",
            true,
            nat,
        ),
        filing_deadline: Cited::new(as_of, "河南", false, henan),
        payment_due: Cited::new(as_of, "河南", true, henan),
        public_body_thresholds: Vec::new(),
        social_average_wage_stand_in: None,
        notes: Vec::new(),
    }
}

fn cert(seq: u32, grade: u8) -> Certificate {
    let body = format!("41120219900101{seq:03}");
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(weights)
        .map(|(c, w)| u32::from(c - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    let no = format!("{body}{check}4{grade}");
    Certificate::Disability(DisabilityCertificate::parse(&no).expect("valid"))
}

fn input() -> LevyInput {
    let months = |m: &[u8]| Employment::Months(MonthSet::from_months(m).expect("months"));
    let all: Vec<u8> = (1..=12).collect();
    let emp = |seq, grade, m: Employment, wage: i64, contract| DisabledEmployee {
        certificate: cert(seq, grade),
        employment: m,
        on_establishment: false,
        contract_months: Some(contract),
        social_insurance_paid: true,
        monthly_wage: Some(Decimal::new(wage, 2)),
        fresh_graduate: false,
        disputed: MonthSet::EMPTY,
        counted_elsewhere: MonthSet::EMPTY,
        retirement_track: None,
        dispatch: None,
    };
    LevyInput {
        employer_kind: EmployerKind::Enterprise,
        registered_on: None,
        staff: Staff::Monthly([198, 199, 200, 200, 201, 202, 200, 199, 200, 201, 200, 200]),
        wages: Some(Wages::Total(Decimal::new(1_452_380_066, 2))),
        disabled: Disabled::Roster(vec![
            emp(1, 2, months(&all), 320_000, 36),
            emp(2, 3, months(&all), 250_000, 24),
            emp(
                3,
                4,
                months(&[3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
                230_000,
                12,
            ),
            emp(4, 1, months(&[1, 2, 3, 4, 5, 6]), 400_000, 60),
            emp(5, 3, months(&all), 200_000, 6), // short contract: excluded
        ]),
        overrides: Overrides::default(),
    }
}

fn bench(c: &mut Criterion) {
    let p = policy();
    let i = input();
    let mut g = c.benchmark_group("levy");
    g.throughput(Throughput::Elements(1));
    g.bench_function("figures_only", |b| {
        b.iter(|| calculate(black_box(&p), black_box(&i), ExplainMode::FiguresOnly))
    });
    g.bench_function("with_explanation_zh", |b| {
        b.iter(|| {
            calculate(
                black_box(&p),
                black_box(&i),
                ExplainMode::Full(Language::Zh),
            )
        })
    });
    g.bench_function("with_explanation_en", |b| {
        b.iter(|| {
            calculate(
                black_box(&p),
                black_box(&i),
                ExplainMode::Full(Language::En),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
