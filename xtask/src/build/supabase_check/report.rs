//! What a check of the bundle found: the checks push into one `Report`.

/// What the check found in a bundle folder.
#[derive(Debug, Default)]
pub struct Report {
    /// What was checked and held, one line each (for progress notes).
    pub checked: Vec<String>,
    /// What the Supabase CLI would refuse, skip or deploy broken, one line each; each names
    /// the file and the key or specifier.
    pub findings: Vec<String>,
}
