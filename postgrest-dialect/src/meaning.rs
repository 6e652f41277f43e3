//! What a PostgREST error answer means, whichever version sent it.

/// What a non-2xx answer of PostgREST means to its caller, the same from 12.0.2 and 14.x.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// The token was refused: any 401, an invalid or expired JWT (`PGRST301` on 12,
    /// `PGRST303` for an expired one on 13+), or a token whose role does not exist (400
    /// `22023` on 12, 401 since 13.0.1, #3601).
    TokenRefused,
    /// The token's role may not do this: `42501` (insufficient privilege) or a 403.
    PermissionDenied,
    /// A table, view, function or path PostgREST does not know: a missing relation is `42P01`
    /// from PostgreSQL on 12.0.2 and `PGRST205` on 13+ (#3697); an unknown path a bare `{}`
    /// 404 on 12.0.2 and `PGRST125` on 13+ (#3906); a function `PGRST202`, or `42883` before
    /// 14.2 for a function with one named JSON parameter (#4553).
    MissingFromSchema,
    /// A fault of the database's code or data that a retry will not fix, whose status
    /// PostgREST changed after 12.0.2: a cardinality violation `21000` (400 to 500, 12.0.3
    /// #3205), infinite recursion in a policy `42P17` (400 to 500, 12.0.3 #3256), program
    /// limits `54…` (413 to 500, 12.2.0 #3255). Matched by code, because by status 12.0.2's
    /// 4xx would read as the caller's fault and 14's 500 as a passing outage.
    FaultOfTheDatabase,
    /// Any other 5xx: PostgREST or its database is failing, and a retry may succeed.
    Outage,
    /// No error code at all: neither an answer of SQL (always a SQLSTATE) nor a documented
    /// PostgREST error (`PGRST…`). Seen as a bare 400 while Postgres restarted under load: a
    /// broken upstream, so retryable.
    Codeless,
    /// An error with a code that only its caller can word: the SQLSTATEs and `PT…` codes of
    /// the caller's own SQL functions, or any other.
    Answered,
}

/// What the answer with HTTP `status`, PostgREST `code` (empty when it sent none) and
/// `message` means. The message is only matched for the unknown role, never kept.
pub fn meaning(status: u16, code: &str, message: Option<&str>) -> Meaning {
    if refuses_token(status, code, message) {
        Meaning::TokenRefused
    } else if is_missing_from_schema(status, code) {
        Meaning::MissingFromSchema
    } else if matches!(code, "21000" | "42P17") || (code.len() == 5 && code.starts_with("54")) {
        Meaning::FaultOfTheDatabase
    } else if code == "42501" || status == 403 {
        Meaning::PermissionDenied
    } else if status >= 500 {
        Meaning::Outage
    } else if code.is_empty() {
        Meaning::Codeless
    } else {
        Meaning::Answered
    }
}

/// Whether the answer means [`Meaning::TokenRefused`]: a caller that needs no other meaning
/// (the widget) asks this alone, and so ships no more of [`meaning`] than it uses.
pub fn refuses_token(status: u16, code: &str, message: Option<&str>) -> bool {
    status == 401
        || matches!(code, "PGRST301" | "PGRST303")
        || (code == "22023" && names_unknown_role(message))
}

/// Whether `message` is PostgreSQL's `role "…" does not exist`, matched as PostgREST 13.0.1+
/// matches it to answer 401 instead of 400.
fn names_unknown_role(message: Option<&str>) -> bool {
    message.is_some_and(|m| m.starts_with("role") && m.ends_with("does not exist"))
}

/// Whether the answer means [`Meaning::MissingFromSchema`] (when it does not refuse the
/// token, which [`meaning`] asks first).
pub fn is_missing_from_schema(status: u16, code: &str) -> bool {
    matches!(
        code,
        "42P01" | "PGRST205" | "PGRST125" | "PGRST202" | "42883"
    ) || (code.is_empty() && status == 404)
}

#[cfg(test)]
mod tests {
    //! Each difference between the versions, as each version sends it (sources:
    //! `docs/postgrest-versions.md`): both answers must mean the same.

    use super::*;

    /// The answers of 12.0.2 and of 14.x, as `(status, code, message)`, mean `expected`.
    fn both_mean(
        expected: Meaning,
        v12: (u16, &str, Option<&str>),
        v14: (u16, &str, Option<&str>),
    ) {
        assert_eq!(meaning(v12.0, v12.1, v12.2), expected, "12.0.2: {v12:?}");
        assert_eq!(meaning(v14.0, v14.1, v14.2), expected, "14.x: {v14:?}");
    }

    #[test]
    fn an_expired_token_is_pgrst301_on_12_and_pgrst303_on_14() {
        let expired = Some("JWT expired");
        both_mean(
            Meaning::TokenRefused,
            (401, "PGRST301", expired),
            (401, "PGRST303", expired),
        );
        // The code alone is enough, whatever the status.
        assert_eq!(meaning(400, "PGRST303", None), Meaning::TokenRefused);
    }

    #[test]
    fn a_token_whose_role_does_not_exist_is_400_on_12_and_401_on_14() {
        let message = Some("role \"service_rol\" does not exist");
        both_mean(
            Meaning::TokenRefused,
            (400, "22023", message),
            (401, "22023", message),
        );
        // A 22023 of the caller's own SQL is the caller's to word.
        let ours = Some("resource must be a non-empty name");
        assert_eq!(meaning(400, "22023", ours), Meaning::Answered);
        assert_eq!(meaning(400, "22023", None), Meaning::Answered);
    }

    #[test]
    fn a_missing_view_is_42p01_on_12_and_pgrst205_on_14() {
        both_mean(
            Meaning::MissingFromSchema,
            (404, "42P01", None),
            (404, "PGRST205", None),
        );
    }

    #[test]
    fn a_missing_function_is_42883_before_14_2_and_pgrst202_since() {
        both_mean(
            Meaning::MissingFromSchema,
            (404, "42883", None),
            (404, "PGRST202", None),
        );
    }

    #[test]
    fn a_wrong_path_is_a_bare_404_on_12_and_pgrst125_on_14() {
        both_mean(
            Meaning::MissingFromSchema,
            (404, "", None),
            (404, "PGRST125", None),
        );
        // A 404 with a code of the caller's own SQL is not a missing path.
        assert_eq!(meaning(404, "PT404", None), Meaning::Answered);
    }

    #[test]
    fn faults_of_the_database_moved_from_4xx_to_500() {
        both_mean(
            Meaning::FaultOfTheDatabase,
            (400, "21000", None),
            (500, "21000", None),
        );
        both_mean(
            Meaning::FaultOfTheDatabase,
            (400, "42P17", None),
            (500, "42P17", None),
        );
        both_mean(
            Meaning::FaultOfTheDatabase,
            (413, "54000", None),
            (500, "54000", None),
        );
        // Only a whole SQLSTATE of class 54.
        assert_eq!(meaning(400, "540", None), Meaning::Answered);
    }

    #[test]
    fn a_configuration_limit_is_503_on_12_and_500_since_12_2() {
        both_mean(Meaning::Outage, (503, "53400", None), (500, "53400", None));
    }

    #[test]
    fn insufficient_privilege_is_a_refusal_of_the_role() {
        assert_eq!(meaning(403, "42501", None), Meaning::PermissionDenied);
        assert_eq!(meaning(401, "42501", None), Meaning::TokenRefused);
        assert_eq!(meaning(403, "", None), Meaning::PermissionDenied);
    }

    #[test]
    fn an_answer_without_a_code_is_a_broken_upstream() {
        assert_eq!(meaning(400, "", None), Meaning::Codeless);
        assert_eq!(meaning(502, "", None), Meaning::Outage);
    }

    #[test]
    fn the_callers_own_codes_are_theirs_to_word() {
        for code in ["PT409", "PT404", "23514", "P0001"] {
            assert_eq!(meaning(409, code, None), Meaning::Answered, "{code}");
        }
    }
}
