use super::*;

fn approval_of(text: &str) -> ApprovalArgs {
    match parse(text) {
        Some(Ok(Command::Approval(args))) => args,
        other => panic!("`{text}` parsed as {other:?}"),
    }
}

fn mistake(text: &str) -> ParseError {
    match parse(text) {
        Some(Err(e)) => e,
        other => panic!("`{text}` parsed as {other:?}"),
    }
}

#[test]
fn an_approval_reads_kind_amount_discount_and_title() {
    assert_eq!(
        approval_of("approval discount 200000 18% 华东制造 Q4 续约"),
        ApprovalArgs {
            kind: "discount".into(),
            amount: 200_000.0,
            discount_pct: 18.0,
            title: "华东制造 Q4 续约".into(),
        }
    );
}

#[test]
fn the_chinese_alias_full_width_spaces_and_percent_sign_are_accepted() {
    let args = approval_of("  审批\u{3000}discount   20万　18％  Q4\u{3000}\u{3000}续约 ");
    assert_eq!(args.kind, "discount");
    assert_eq!(args.amount, 200_000.0);
    assert_eq!(args.discount_pct, 18.0);
    assert_eq!(args.title, "Q4 续约", "runs of spaces collapse to one");
}

#[test]
fn the_discount_is_optional() {
    let args = approval_of("approval contract 1,250,000.50 三年框架协议");
    assert_eq!(args.amount, 1_250_000.5);
    assert_eq!(args.discount_pct, 0.0);
    assert_eq!(args.title, "三年框架协议");
}

#[test]
fn amounts_take_separators_and_the_wan_suffix() {
    for (word, value) in [
        ("0", 0.0),
        ("99.90", 99.9),
        ("200,000", 200_000.0),
        ("200，000", 200_000.0),
        ("20万", 200_000.0),
        ("1.5万", 15_000.0),
        ("1,200万", 12_000_000.0),
    ] {
        assert_eq!(amount(word), Ok(value), "{word}");
    }
    for word in [
        "abc", "-5", "1e5", "inf", "NaN", "2,00", ",200", "200,", "1.2.3", ".5", "5.", "万",
        "20 万", "1,0000", "¥200",
    ] {
        assert_eq!(
            amount(word),
            Err(ParseError::BadAmount(word.into())),
            "{word}"
        );
    }
}

#[test]
fn command_words_are_case_insensitive() {
    assert_eq!(parse("HELP"), Some(Ok(Command::Help)));
    assert_eq!(approval_of("Approval discount 1 t").kind, "discount");
}

#[test]
fn help_has_its_aliases_and_ignores_what_follows() {
    for text in ["help", "帮助", "?", "？", "help approval"] {
        assert_eq!(parse(text), Some(Ok(Command::Help)), "{text}");
    }
}

#[test]
fn withdraw_takes_one_id_with_or_without_a_hash() {
    for text in ["withdraw 12", "撤回 12", "撤回 #12", "withdraw\u{3000}＃12"] {
        assert_eq!(
            parse(text),
            Some(Ok(Command::Withdraw { id: 12 })),
            "{text}"
        );
    }
}

#[test]
fn empty_messages_are_no_command() {
    for text in ["", "   ", "\u{3000}\n\t"] {
        assert_eq!(parse(text), None, "{text:?}");
    }
}

#[test]
fn an_unknown_first_word_is_named() {
    assert_eq!(mistake("hello there"), ParseError::Unknown("hello".into()));
    assert_eq!(mistake("审 批"), ParseError::Unknown("审".into()));
    assert!(mistake("hello").command().is_none());
}

#[test]
fn a_missing_argument_is_named_with_its_command() {
    let missing = |argument| ParseError::Missing {
        command: "approval",
        argument,
    };
    assert_eq!(mistake("approval"), missing("<kind>"));
    assert_eq!(mistake("审批 discount"), missing("<amount>"));
    assert_eq!(mistake("approval discount 20万"), missing("<title>"));
    assert_eq!(mistake("approval discount 20万 18%"), missing("<title>"));
    assert_eq!(
        mistake("撤回"),
        ParseError::Missing {
            command: "withdraw",
            argument: "<id>"
        }
    );
    assert_eq!(
        mistake("approval").command().map(Spec::usage).as_deref(),
        Some("approval <kind> <amount> [<discount>%] <title…>")
    );
}

#[test]
fn bad_values_are_named() {
    assert_eq!(
        mistake("approval discount twenty 18% t"),
        ParseError::BadAmount("twenty".into())
    );
    for word in ["120%", "%", "-1%", "1e2%", "18.5.%"] {
        assert_eq!(
            mistake(&format!("approval discount 100 {word} title")),
            ParseError::BadDiscount(word.into()),
            "{word}"
        );
    }
    assert_eq!(approval_of("approval d 1 7.5% t").discount_pct, 7.5);
    for word in ["abc", "0", "-3", "#", "1.5", "+7"] {
        assert_eq!(
            mistake(&format!("withdraw {word}")),
            ParseError::BadId(word.into()),
            "{word}"
        );
    }
    assert_eq!(
        mistake("withdraw 12 now"),
        ParseError::Unexpected {
            command: "withdraw",
            extra: "now".into()
        }
    );
    assert_eq!(
        mistake("withdraw x").command().map(|spec| spec.name),
        Some("withdraw")
    );
}

#[test]
fn every_command_has_a_unique_name_and_aliases() {
    let mut words: Vec<&str> = COMMANDS
        .iter()
        .flat_map(|spec| std::iter::once(spec.name).chain(spec.aliases.iter().copied()))
        .collect();
    let all = words.len();
    words.sort_unstable();
    words.dedup();
    assert_eq!(words.len(), all, "a word starts two commands");
    for spec in COMMANDS {
        assert_eq!(
            spec.name,
            spec.name.to_lowercase(),
            "names are matched lower-cased"
        );
        assert!(!spec.summary.zh_cn.is_empty() && !spec.summary.en.is_empty());
    }
}

#[test]
fn link_takes_a_url_and_an_optional_campaign() {
    assert_eq!(
        parse("链接 https://example.com/Expo?a=1 双11展会"),
        Some(Ok(Command::Link(LinkArgs {
            url: "https://example.com/Expo?a=1".into(),
            campaign: "双11展会".into(),
        })))
    );
    assert_eq!(
        parse("link https://example.com/x"),
        Some(Ok(Command::Link(LinkArgs {
            url: "https://example.com/x".into(),
            campaign: DEFAULT_CAMPAIGN.into(),
        })))
    );
    assert_eq!(
        parse("link"),
        Some(Err(ParseError::Missing {
            command: "link",
            argument: "<url>"
        }))
    );
    assert_eq!(
        parse("link https://a.example b c"),
        Some(Err(ParseError::Unexpected {
            command: "link",
            extra: "c".into()
        }))
    );
}

#[test]
fn tasks_takes_no_arguments_and_has_its_chinese_aliases() {
    for text in ["tasks", "TASKS", "任务", "我的任务", " 我的任务\u{3000}"] {
        assert_eq!(parse(text), Some(Ok(Command::Tasks)), "{text}");
    }
    assert_eq!(
        mistake("tasks all"),
        ParseError::Unexpected {
            command: "tasks",
            extra: "all".into()
        }
    );
}

#[test]
fn done_takes_one_task_id_with_or_without_a_hash() {
    for text in ["done 12", "完成 12", "完成 #12", "Done\u{3000}＃12"] {
        assert_eq!(parse(text), Some(Ok(Command::Done { id: 12 })), "{text}");
    }
    assert_eq!(
        mistake("完成"),
        ParseError::Missing {
            command: "done",
            argument: "<id>"
        }
    );
    for word in ["abc", "0", "-3", "#", "1.5", "+7", "１２"] {
        assert_eq!(
            mistake(&format!("done {word}")),
            ParseError::BadTaskId {
                command: "done",
                word: word.into()
            },
            "{word}"
        );
    }
    assert_eq!(
        mistake("done 12 13"),
        ParseError::Unexpected {
            command: "done",
            extra: "13".into()
        }
    );
    assert_eq!(
        mistake("完成 x").command().map(Spec::usage).as_deref(),
        Some("done <id>")
    );
}

#[test]
fn snooze_takes_a_task_id_and_a_duration() {
    let hours = |n: u64| Delay::Working(std::time::Duration::from_secs(n * 3600));
    for (text, delay) in [
        ("snooze 12 2h", hours(2)),
        ("推迟 #12 2小时", hours(2)),
        ("延后 12 2 小时", hours(2)),
        ("延后\u{3000}12\u{3000}2H", hours(2)),
        (
            "snooze 12 1d",
            Delay::Days(std::time::Duration::from_secs(24 * 3600)),
        ),
    ] {
        assert_eq!(
            parse(text),
            Some(Ok(Command::Snooze { id: 12, delay })),
            "{text}"
        );
    }
    assert_eq!(
        mistake("推迟 12"),
        ParseError::Missing {
            command: "snooze",
            argument: "<duration>"
        }
    );
    assert_eq!(
        mistake("snooze"),
        ParseError::Missing {
            command: "snooze",
            argument: "<id>"
        }
    );
    assert_eq!(
        mistake("snooze 2h 12"),
        ParseError::BadTaskId {
            command: "snooze",
            word: "2h".into()
        }
    );
    for words in ["45d", "2", "soon", "2 weeks", "0m"] {
        assert_eq!(
            mistake(&format!("snooze 12 {words}")),
            ParseError::BadDelay(words.into()),
            "{words}"
        );
    }
    assert_eq!(
        mistake("snooze 12 2 h now"),
        ParseError::Unexpected {
            command: "snooze",
            extra: "now".into()
        }
    );
    assert_eq!(
        mistake("推迟 12 明天")
            .command()
            .map(Spec::usage)
            .as_deref(),
        Some("snooze <id> <duration>")
    );
}
