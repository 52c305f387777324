//! What a case records about its subject.

stored_words! {
    /// Whom a case is about: an organisation, or one person in a unit.
    SubjectKind { Organization = "organization", Individual = "individual" }
}
