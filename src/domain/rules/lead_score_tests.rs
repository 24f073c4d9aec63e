//! `[lead_score]`: its defaults, what a file may change, and every kind of problem with the
//! line it is reported on.

use super::*;

/// The problems of an invalid file, as (line, reason).
fn problems(text: &str) -> Vec<(usize, String)> {
    match Rules::parse(text, "rules.toml") {
        Ok(rules) => panic!("expected problems, got {rules:?}"),
        Err(e) => e
            .problems()
            .iter()
            .map(|p| {
                assert_eq!(p.rule, None, "{p}");
                (p.line, p.reason.clone())
            })
            .collect(),
    }
}

fn parse(text: &str) -> LeadScore {
    Rules::parse(text, "rules.toml")
        .unwrap()
        .lead_score()
        .clone()
}

#[test]
fn without_the_section_or_with_an_empty_one_the_defaults_apply() {
    for text in ["", "[lead_score]\n", "[lead_score.points]\n"] {
        let score = parse(text);
        assert_eq!(score, LeadScore::default(), "{text:?}");
        assert_eq!(score.half_life_days(), 14.0);
        assert_eq!(score.threshold(), 50.0);
        assert_eq!(
            *score.points(),
            Points {
                click: 2.0,
                repeat_click: 1.0,
                registration: 20.0,
                group_join: 5.0,
                reply: 3.0,
            }
        );
    }
}

#[test]
fn a_valid_section_sets_what_it_names_and_keeps_the_other_defaults() {
    let score = parse(
        "[lead_score]\nhalf_life_days = 7.5\nthreshold = 30\n\n[lead_score.points]\nregistration = 25\nclick = 0\nreply = 1.5\n",
    );
    assert_eq!(score.half_life_days(), 7.5);
    assert_eq!(score.threshold(), 30.0);
    assert_eq!(
        *score.points(),
        Points {
            click: 0.0,
            repeat_click: 1.0,
            registration: 25.0,
            group_join: 5.0,
            reply: 1.5,
        }
    );
    let inline = parse("lead_score = { threshold = 0, points = { group_join = 8 } }\n");
    assert_eq!(inline.threshold(), 0.0);
    assert_eq!(inline.points().group_join, 8.0);
}

#[test]
fn an_unknown_key_is_refused_on_its_line() {
    let got = problems("[lead_score]\nthreshold = 30\nhalf_life = 14\n");
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].0, 3);
    assert!(
        got[0]
            .1
            .starts_with("lead_score: unknown field `half_life`, expected one of"),
        "{}",
        got[0].1
    );

    let got =
        problems("[lead_score]\nthreshold = 30\n\n[lead_score.points]\nclick = 2\nclik = 1\n");
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].0, 6);
    assert!(
        got[0]
            .1
            .starts_with("lead_score: unknown field `clik`, expected one of"),
        "{}",
        got[0].1
    );
}

#[test]
fn negative_points_and_thresholds_are_refused_each_on_its_line() {
    let got = problems(
        "[lead_score]\nthreshold = -5\n\n[lead_score.points]\nclick = -1\nreply = 3\ngroup_join = -0.5\n",
    );
    assert_eq!(
        got,
        [
            (
                2,
                "lead_score: `threshold` must be a number of 0 or more, not -5".to_string()
            ),
            (
                5,
                "lead_score: `points.click` must be a number of 0 or more, not -1".to_string()
            ),
            (
                7,
                "lead_score: `points.group_join` must be a number of 0 or more, not -0.5"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn a_half_life_of_zero_or_less_or_not_finite_is_refused() {
    for (value, shown) in [("0", "0"), ("-3", "-3"), ("inf", "inf"), ("nan", "NaN")] {
        let got = problems(&format!("\n[lead_score]\nhalf_life_days = {value}\n"));
        assert_eq!(
            got,
            [(
                3,
                format!("lead_score: `half_life_days` must be more than 0, not {shown}")
            )],
            "{value}"
        );
    }
}

#[test]
fn values_of_the_wrong_kind_and_a_section_that_is_no_table_are_refused() {
    let got = problems("[lead_score]\nthreshold = \"high\"\n");
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].0, 2);
    assert!(
        got[0].1.starts_with("lead_score: invalid type"),
        "{}",
        got[0].1
    );

    let got = problems("lead_score = 50\n");
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].0, 1);
    assert!(
        got[0].1.starts_with("`lead_score` must be a table"),
        "{}",
        got[0].1
    );
}

#[test]
fn problems_elsewhere_in_the_file_are_reported_with_those_of_lead_score() {
    let text = "[roles]\nfinance = []\n\n[lead_score]\nthreshold = -1\n";
    let lines: Vec<usize> = problems(text).into_iter().map(|(line, _)| line).collect();
    assert_eq!(lines, [2, 5]);
}
