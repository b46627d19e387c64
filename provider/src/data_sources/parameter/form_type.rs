//! Which `form_type`s (the widget Coder shows) go with which parameter `type`, depending on
//! whether the parameter has options. The first entry of each row is what an empty
//! `form_type` resolves to.

use crate::schema::validators::go_quote;

/// The parameter types, in the order upstream lists them.
pub const TYPES: &[&str] = &["string", "number", "bool", "list(string)"];

/// Every `form_type` a configuration may name (the empty default is not among them).
pub const FORM_TYPES: &[&str] = &[
    "radio",
    "slider",
    "input",
    "dropdown",
    "checkbox",
    "switch",
    "multi-select",
    "tag-select",
    "textarea",
    "error",
];

/// The allowed form types for a type, with and without options. `error` is in no row: it is
/// accepted by the schema but never valid.
fn allowed(typ: &str, options_exist: bool) -> Option<&'static [&'static str]> {
    let row: &'static [&'static str] = match (typ, options_exist) {
        ("string", true) => &["radio", "dropdown"],
        ("string", false) => &["input", "textarea"],
        ("number", true) => &["radio", "dropdown"],
        ("number", false) => &["input", "slider"],
        ("bool", true) => &["radio", "dropdown"],
        ("bool", false) => &["checkbox", "switch"],
        ("list(string)", true) => &["radio", "multi-select"],
        ("list(string)", false) => &["tag-select"],
        _ => return None,
    };
    Some(row)
}

/// Go's `%v` of a string slice: `[a b]`.
fn go_list(items: &[&str]) -> String {
    format!("[{}]", items.join(" "))
}

/// The form type a parameter ends up with, and the type its option values must have. That is
/// the parameter's own type except for `list(string)` shown as `multi-select`, whose options
/// are single strings picked into a JSON list. Errors are the diagnostic detail.
pub fn resolve(
    typ: &str,
    option_count: usize,
    specified: &str,
) -> Result<(&'static str, String), String> {
    let options_exist = option_count > 0;
    let Some(row) = allowed(typ, options_exist) else {
        // The schema's enum check makes this unreachable in practice.
        return Err(format!(
            "\"type\" attribute={} is not supported, choose one of {}",
            go_quote(typ),
            go_list(TYPES)
        ));
    };
    let form_type = if specified.is_empty() {
        row[0]
    } else {
        specified
    };
    if !row.contains(&form_type) {
        // Say so when the form type would be right had the options been there (or not).
        let opposite = allowed(typ, !options_exist).unwrap_or_default();
        let why = match (opposite.contains(&form_type), options_exist) {
            (true, true) => " when options exist",
            (true, false) => " when options do not exist",
            (false, _) => "",
        };
        return Err(format!(
            "\"form_type\" attribute={} is not supported for \"type\"={}{why}, choose one of {}",
            go_quote(form_type),
            go_quote(typ),
            go_list(row)
        ));
    }
    let option_type = if typ == "list(string)" && form_type == "multi-select" {
        "string"
    } else {
        // `typ` is one of TYPES here, so this always finds it.
        TYPES
            .iter()
            .copied()
            .find(|t| *t == typ)
            .unwrap_or("string")
    };
    Ok((option_type, form_type.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_form_type_resolves_to_the_first_of_its_row() {
        let cases = [
            ("string", 1, "radio"),
            ("string", 0, "input"),
            ("number", 2, "radio"),
            ("number", 0, "input"),
            ("bool", 2, "radio"),
            ("bool", 0, "checkbox"),
            ("list(string)", 1, "radio"),
            ("list(string)", 0, "tag-select"),
        ];
        for (typ, options, expected) in cases {
            let (option_type, form_type) = resolve(typ, options, "").unwrap();
            assert_eq!(form_type, expected, "{typ} with {options} options");
            assert_eq!(option_type, typ);
        }
    }

    #[test]
    fn every_allowed_pairing() {
        let cases = [
            ("string", true, "dropdown"),
            ("string", false, "textarea"),
            ("number", true, "dropdown"),
            ("number", false, "slider"),
            ("bool", true, "dropdown"),
            ("bool", false, "switch"),
            ("list(string)", true, "radio"),
        ];
        for (typ, options, form_type) in cases {
            let count = usize::from(options);
            assert_eq!(resolve(typ, count, form_type).unwrap().1, form_type);
        }
    }

    #[test]
    fn multi_select_options_are_strings() {
        assert_eq!(
            resolve("list(string)", 3, "multi-select").unwrap(),
            ("string", "multi-select".to_string())
        );
    }

    #[test]
    fn form_type_valid_only_with_the_opposite_options() {
        assert_eq!(
            resolve("number", 2, "slider").unwrap_err(),
            r#""form_type" attribute="slider" is not supported for "type"="number" when options exist, choose one of [radio dropdown]"#
        );
        assert_eq!(
            resolve("string", 0, "dropdown").unwrap_err(),
            r#""form_type" attribute="dropdown" is not supported for "type"="string" when options do not exist, choose one of [input textarea]"#
        );
        assert_eq!(
            resolve("list(string)", 0, "multi-select").unwrap_err(),
            r#""form_type" attribute="multi-select" is not supported for "type"="list(string)" when options do not exist, choose one of [tag-select]"#
        );
    }

    #[test]
    fn form_type_never_valid_for_the_type() {
        assert_eq!(
            resolve("bool", 0, "textarea").unwrap_err(),
            r#""form_type" attribute="textarea" is not supported for "type"="bool", choose one of [checkbox switch]"#
        );
        assert_eq!(
            resolve("string", 1, "error").unwrap_err(),
            r#""form_type" attribute="error" is not supported for "type"="string", choose one of [radio dropdown]"#
        );
    }
}
