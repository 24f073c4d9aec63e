//! `[[alert]]`: the three kinds as written in docs/rules.md, the defaults of `to`, and every
//! kind of problem with the line and rule it is reported on.

use std::collections::BTreeMap;

use super::*;

/// The problems of an invalid file, as (line, rule, reason).
fn problems(text: &str) -> Vec<(usize, Option<String>, String)> {
    match Rules::parse(text, "rules.toml") {
        Ok(rules) => panic!("expected problems, got {rules:?}"),
        Err(e) => e
            .problems()
            .iter()
            .map(|p| {
                (
                    p.line,
                    p.rule.as_ref().map(ToString::to_string),
                    p.reason.clone(),
                )
            })
            .collect(),
    }
}

const EXAMPLE: &str = r#"
[roles]
east_sales = ["li.si", "wang.wu", "zhang.san"]

[[alert]]
name = "idle deals"
kind = "deal_idle"
days = 14

[[alert]]
name = "quiet reps"
kind = "rep_idle"
days = 3
reps = ["zhang.san", "role:east_sales"]

[[alert]]
name = "monthly target"
kind = "kpi"
below_pct = 60
day_of_month = 20
targets = { "zhang.san" = 500000, "li.si" = 300000.5 }
to = "sales.vp"
tenant = "acme"
platform = "wecom"
"#;

#[test]
fn the_documented_example_loads_with_each_kind_and_its_default_recipient() {
    let rules = Rules::parse(EXAMPLE, "rules.toml").unwrap();
    let alerts = rules.alerts();
    assert_eq!(alerts.len(), 3);

    assert_eq!(alerts[0].name(), "idle deals");
    assert_eq!(*alerts[0].condition(), Condition::DealIdle { days: 14 });
    assert_eq!(alerts[0].condition().kind(), "deal_idle");
    assert_eq!(
        *alerts[0].to(),
        AlertTo::Director,
        "deal_idle goes to the director"
    );
    assert!(alerts[0].applies_to("acme", "wecom") && alerts[0].applies_to("other", "dingtalk"));

    assert_eq!(
        *alerts[1].condition(),
        Condition::RepIdle {
            days: 3,
            reps: vec![
                RepRef::User("zhang.san".into()),
                RepRef::Role("east_sales".into())
            ],
        }
    );
    assert_eq!(*alerts[1].to(), AlertTo::Manager);
    assert_eq!(
        rules.alert_reps(&alerts[1]),
        ["zhang.san", "li.si", "wang.wu"],
        "roles expanded, each rep once"
    );

    let targets = BTreeMap::from([
        ("li.si".to_string(), 300000.5),
        ("zhang.san".into(), 500000.0),
    ]);
    assert_eq!(
        *alerts[2].condition(),
        Condition::Kpi {
            below_pct: 60.0,
            day_of_month: 20,
            targets
        }
    );
    assert_eq!(*alerts[2].to(), AlertTo::User("sales.vp".into()));
    assert!(alerts[2].applies_to("acme", "wecom"));
    assert!(!alerts[2].applies_to("acme", "dingtalk"));
    assert!(!alerts[2].applies_to("other", "wecom"));
    assert!(rules.alert_reps(&alerts[2]).is_empty());
}

#[test]
fn to_may_name_the_manager_or_the_director_of_any_kind() {
    let rules = Rules::parse(
        "[[alert]]\nname = \"a\"\nkind = \"deal_idle\"\ndays = 1\nto = \"manager\"\n\n\
         [[alert]]\nname = \"b\"\nkind = \"rep_idle\"\ndays = 365\nreps = [\"x\", \"x\"]\nto = \"director\"\n",
        "rules.toml",
    )
    .unwrap();
    assert_eq!(*rules.alerts()[0].to(), AlertTo::Manager);
    assert_eq!(*rules.alerts()[1].to(), AlertTo::Director);
    assert_eq!(rules.alert_reps(&rules.alerts()[1]), ["x"]);
}

#[test]
fn a_missing_or_unknown_kind_is_refused_on_the_rule() {
    let got = problems(
        "[[alert]]\nname = \"a\"\ndays = 3\n\n[[alert]]\nname = \"b\"\nkind = \"deal_stuck\"\n",
    );
    assert_eq!(
        got,
        [
            (
                1,
                Some("alert[0] \"a\"".into()),
                "has no `kind`; write `kind = \"deal_idle\"`, `\"rep_idle\"` or `\"kpi\"`".into()
            ),
            (
                7,
                Some("alert[1] \"b\"".into()),
                "unknown kind `deal_stuck`; the kinds are: deal_idle, rep_idle, kpi".into()
            ),
        ]
    );
}

#[test]
fn each_kind_names_the_keys_it_lacks() {
    let got = problems(
        "[[alert]]\nname = \"d\"\nkind = \"deal_idle\"\n\n[[alert]]\nname = \"r\"\nkind = \"rep_idle\"\n\n\
         [[alert]]\nname = \"k\"\nkind = \"kpi\"\n",
    );
    let reasons: Vec<(usize, &str)> = got
        .iter()
        .map(|(line, _, reason)| (*line, reason.split(';').next().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            (1, "has no `days`"),
            (5, "has no `days`"),
            (5, "has no `reps`"),
            (9, "has no `below_pct`"),
            (9, "has no `day_of_month`"),
            (9, "has no `targets`"),
        ]
    );
}

#[test]
fn keys_of_another_kind_are_refused_on_their_line() {
    let got = problems(
        "[[alert]]\nname = \"k\"\nkind = \"kpi\"\nbelow_pct = 50\nday_of_month = 10\n\
         targets = { a = 1 }\ndays = 3\n\n[[alert]]\nname = \"d\"\nkind = \"deal_idle\"\ndays = 2\nreps = [\"a\"]\n",
    );
    assert_eq!(
        got,
        [
            (
                7,
                Some("alert[0] \"k\"".into()),
                "`days` is not used by kpi alerts, only by deal_idle and rep_idle".into()
            ),
            (
                13,
                Some("alert[1] \"d\"".into()),
                "`reps` is not used by deal_idle alerts, only by rep_idle".into()
            ),
        ]
    );
}

#[test]
fn out_of_range_numbers_are_refused_each_on_its_line() {
    let got = problems(
        "[[alert]]\nname = \"d\"\nkind = \"deal_idle\"\ndays = 0\n\n\
         [[alert]]\nname = \"k\"\nkind = \"kpi\"\nbelow_pct = 120\nday_of_month = 32\n\
         targets = { \"zhang.san\" = 0, \"bad id!\" = 5 }\n",
    );
    let shown: Vec<(usize, String)> = got.into_iter().map(|(l, _, r)| (l, r)).collect();
    assert_eq!(
        shown,
        [
            (4, "`days` must be a whole number from 1 to 365, not 0".to_string()),
            (9, "`below_pct` must be more than 0 and at most 100, not 120".into()),
            (10, "`day_of_month` must be a day from 1 to 31, not 32".into()),
            (
                11,
                "`targets`: \"bad id!\" is not a user id; a user id is 1 to 64 letters, digits, `.`, `_`, `-` or `@`".into()
            ),
            (
                11,
                "`targets`: the target of \"zhang.san\" must be more than 0, not 0".into()
            ),
        ]
    );
    let got = problems("[[alert]]\nname = \"r\"\nkind = \"rep_idle\"\ndays = 400\nreps = []\n");
    let shown: Vec<usize> = got.iter().map(|(l, _, _)| *l).collect();
    assert_eq!(shown, [4, 5], "{got:#?}");
}

#[test]
fn reps_must_be_user_ids_or_defined_roles() {
    let got = problems(
        "[roles]\nfinance = [\"zhao.min\"]\n\n[[alert]]\nname = \"r\"\nkind = \"rep_idle\"\ndays = 3\n\
         reps = [\"role:east\", \"not a user\", \"pool:east\"]\n",
    );
    let reasons: Vec<&str> = got.iter().map(|(_, _, r)| r.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "unknown role `east`; the roles in [roles] are: finance",
            "\"not a user\" is not a rep: write a user id (a user id is 1 to 64 letters, digits, `.`, `_`, `-` or `@`), `role:<name>` or `pool:<name>`",
            "unknown pool `east`; no pools are defined: add it under [pools.east]",
        ]
    );
    assert!(got.iter().all(|(line, _, _)| *line == 8));
}

#[test]
fn bad_recipients_tenants_platforms_and_names_are_refused() {
    let got = problems(
        "[[alert]]\nname = \"d\"\nkind = \"deal_idle\"\ndays = 2\nto = \"the boss\"\ntenant = \"ACME\"\n\
         platform = \"slack\"\n\n[[alert]]\nname = \"d\"\nkind = \"deal_idle\"\ndays = 2\n\n\
         [[alert]]\nname = \"e\"\nkind = \"deal_idle\"\nwhen = \"x\"\n",
    );
    let shown: Vec<(usize, String)> = got.into_iter().map(|(l, _, r)| (l, r)).collect();
    assert_eq!(shown.len(), 5, "{shown:#?}");
    assert_eq!(shown[0].0, 5);
    assert!(
        shown[0]
            .1
            .starts_with("`to` = \"the boss\" is not a recipient"),
        "{}",
        shown[0].1
    );
    assert_eq!(
        shown[1],
        (6, "`tenant` = \"ACME\" is not a tenant name".into())
    );
    assert_eq!(
        shown[2],
        (
            7,
            "`platform` = \"slack\" is not a platform; write wecom or dingtalk".into()
        )
    );
    // The second rule repeats the name; the third has a key no alert has.
    assert_eq!(shown[3].0, 10);
    assert!(
        shown[3]
            .1
            .starts_with("the name \"d\" is already used by alert[0] on line 2")
    );
    assert_eq!(shown[4].0, 17);
    assert!(
        shown[4].1.starts_with("unknown field `when`"),
        "{}",
        shown[4].1
    );
}

#[test]
fn alert_problems_are_reported_with_those_of_other_sections() {
    let text =
        "[lead_score]\nthreshold = -1\n\n[[alert]]\nname = \"\"\nkind = \"deal_idle\"\ndays = 1\n";
    let lines: Vec<usize> = problems(text)
        .into_iter()
        .map(|(line, _, _)| line)
        .collect();
    assert_eq!(lines, [2, 5]);
    let err = Rules::parse("alert = 3\n", "rules.toml").unwrap_err();
    assert!(
        err.to_string()
            .contains("`alert` must be a list of rules, each starting with [[alert]]"),
        "{err}"
    );
}

#[test]
fn reps_may_name_a_pool_whose_members_are_watched() {
    let rules = super::Rules::parse(
        "[roles]\nleads = [\"li.lei\", \"wang.wu\"]\n\n\
         [pools.east]\nmembers = [\"han.mei\", \"li.lei\"]\nmanager = \"wang.fang\"\n\n\
         [[alert]]\nname = \"quiet\"\nkind = \"rep_idle\"\ndays = 3\n\
         reps = [\"role:leads\", \"pool:east\", \"zhao.min\"]\n",
        "rules.toml",
    )
    .unwrap();
    let rule = &rules.alerts()[0];
    assert_eq!(
        rules.alert_reps(rule),
        ["li.lei", "wang.wu", "han.mei", "zhao.min"],
        "each rep once, in the order written"
    );
}
