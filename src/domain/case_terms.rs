//! What a case records about its subject and its gravity.

stored_words! {
    /// How grave a violation is.
    Severity { Low = "low", Medium = "medium", High = "high" }
}

stored_words! {
    /// Whom a case is about: an organisation, or one person in a unit.
    SubjectKind { Organization = "organization", Individual = "individual" }
}
