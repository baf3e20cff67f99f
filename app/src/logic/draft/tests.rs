use super::*;

fn set(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A stored key whose value was loaded for editing and then typed.
fn edited(key: &str, stored: &str, typed: &str) -> DraftRow {
    DraftRow {
        loaded: Some(stored.into()),
        value: Some(typed.into()),
        ..DraftRow::stored(key)
    }
}

#[test]
fn an_untouched_draft_changes_nothing_and_lists_nothing() {
    let rows = vec![DraftRow::stored("A"), DraftRow::stored("B")];
    assert!(changes(&rows).is_empty());
    assert!(review(&rows).is_empty());
    assert_eq!(check(&rows), Checks::default());
}

#[test]
fn loading_a_value_and_typing_it_back_is_no_change() {
    let rows = vec![edited("A", "same", "same")];
    assert!(changes(&rows).is_empty());
    assert!(review(&rows).is_empty());
}

#[test]
fn each_kind_of_edit_becomes_its_change_and_its_review_line() {
    let rows = vec![
        edited("CHANGED", "old", "new"),
        DraftRow {
            key: " RENAMED_TO ".into(),
            ..DraftRow::stored("RENAMED")
        },
        DraftRow {
            removed: true,
            ..DraftRow::stored("GONE")
        },
        DraftRow::added("NEW".into(), "v".into()),
        // Added, then removed again before saving: nothing.
        DraftRow {
            removed: true,
            ..DraftRow::added("SCRATCH".into(), "x".into())
        },
    ];
    let c = changes(&rows);
    assert_eq!(c.set, set(&[("CHANGED", "new"), ("NEW", "v")]));
    assert_eq!(c.rename, vec![("RENAMED".into(), "RENAMED_TO".into())]);
    assert_eq!(c.remove, strings(&["GONE"]));

    let r = review(&rows);
    let lines: Vec<(ReviewKind, &str, Option<&str>)> = r
        .iter()
        .map(|i| (i.kind, i.label.as_str(), i.value.as_deref()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (ReviewKind::Changed, "CHANGED", Some("new")),
            (ReviewKind::Renamed, "RENAMED → RENAMED_TO", None),
            (ReviewKind::Removed, "GONE", None),
            (ReviewKind::Added, "NEW", Some("v")),
        ]
    );
}

#[test]
fn a_rename_with_a_new_value_sets_it_on_the_new_name() {
    let rows = vec![DraftRow {
        key: "B".into(),
        ..edited("A", "old", "new")
    }];
    let c = changes(&rows);
    assert_eq!(c.rename, vec![("A".into(), "B".into())]);
    assert_eq!(c.set, set(&[("B", "new")]));
    assert_eq!(review(&rows)[0].value.as_deref(), Some("new"));
}

#[test]
fn a_stored_name_with_spaces_is_never_renamed_silently_and_must_be_renamed_to_save() {
    let untouched = DraftRow::stored(" A");
    assert_eq!(untouched.renamed_to(), None);
    assert!(changes(std::slice::from_ref(&untouched)).is_empty());
    // The server refuses such a name, so the review is blocked until the user renames it.
    assert_eq!(check(&[untouched]).errors.len(), 1);
    let renamed = DraftRow {
        key: "A".into(),
        ..DraftRow::stored(" A")
    };
    assert_eq!(
        changes(std::slice::from_ref(&renamed)).rename,
        vec![(" A".into(), "A".into())]
    );
    assert_eq!(check(&[renamed]), Checks::default());
}

#[test]
fn a_name_used_twice_or_left_empty_blocks_the_review() {
    let rows = vec![
        DraftRow::stored("DUP"),
        DraftRow::added("DUP".into(), String::new()),
        DraftRow::added("".into(), String::new()),
    ];
    let c = check(&rows);
    assert!(
        c.errors
            .iter()
            .any(|e| e.contains("\"DUP\" appears 2 times")),
        "{c:?}"
    );
    assert_eq!(c.errors.len(), 2, "the duplicate and the empty name: {c:?}");
}

#[test]
fn a_removed_row_is_not_checked_and_frees_its_name() {
    let rows = vec![
        DraftRow {
            removed: true,
            ..DraftRow::stored("DUP")
        },
        DraftRow::added("DUP".into(), String::new()),
    ];
    assert_eq!(check(&rows), Checks::default());
}

#[test]
fn an_odd_name_warns_without_blocking() {
    let rows = vec![DraftRow::added("my-key".into(), String::new())];
    let c = check(&rows);
    assert!(c.errors.is_empty(), "{c:?}");
    assert_eq!(c.warnings.len(), 1, "{c:?}");
}

#[test]
fn an_import_sets_kept_keys_and_adds_the_others() {
    let rows = vec![
        DraftRow::stored("KEPT"),
        DraftRow {
            removed: true,
            ..DraftRow::stored("REMOVED")
        },
    ];
    let got = import(&rows, set(&[("KEPT", "1"), ("NEW", "2"), ("REMOVED", "3")]));
    assert_eq!(
        got,
        vec![
            Import::Set(0, "1".into()),
            Import::Add("NEW".into(), "2".into()),
            // A key the user removed comes back as a new row rather than undoing the removal.
            Import::Add("REMOVED".into(), "3".into()),
        ]
    );
}

#[test]
fn an_import_finds_a_key_typed_with_spaces_around_it() {
    let rows = vec![DraftRow::added(" FOO ".into(), String::new())];
    assert_eq!(
        import(&rows, set(&[("FOO", "1")])),
        vec![Import::Set(0, "1".into())]
    );
}

#[test]
fn describe_names_each_kind_and_says_nothing_for_no_change() {
    let c = KeyChanges {
        added: strings(&["A", "B"]),
        changed: vec![],
        removed: strings(&["C"]),
    };
    assert_eq!(describe(&c).as_deref(), Some("added A, B; removed C"));
    assert_eq!(describe(&KeyChanges::default()), None);
}
