//! Status widget (filled by the widget issue).
