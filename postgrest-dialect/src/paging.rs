//! Reading every row under PostgREST's row cap: pages of [`PAGE_ROWS`] by offset.

/// Rows per read: PostgREST caps an answer at its `db-max-rows` (1,000 on Supabase), so a
/// bigger project is read page by page.
pub const PAGE_ROWS: usize = 1000;

/// The most pages one read goes through (100,000 rows): the work of one read stays bounded.
pub const MAX_PAGES: usize = 100;

/// Where a read of every row is: the page to ask for now, and whether another follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pages {
    page: usize,
}

impl Pages {
    /// The page to read now of `read`, a URL or path that already has a query (its `select`
    /// and `order`): `read` with `&limit=1000&offset=…`.
    pub fn url(&self, read: &str) -> String {
        format!("{read}&limit={PAGE_ROWS}&offset={}", self.page * PAGE_ROWS)
    }

    /// Takes in the page just read, which had `rows` rows; whether there is another to read.
    /// A page short of [`PAGE_ROWS`] is the last, and so is the [`MAX_PAGES`]th.
    pub fn advance(&mut self, rows: usize) -> bool {
        self.page += 1;
        rows >= PAGE_ROWS && self.page < MAX_PAGES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_each_other_by_offset() {
        let mut pages = Pages::default();
        let read = "/vantage_sync_health?order=sort_key";
        assert_eq!(pages.url(read), format!("{read}&limit=1000&offset=0"));
        assert!(pages.advance(PAGE_ROWS));
        assert_eq!(pages.url(read), format!("{read}&limit=1000&offset=1000"));
        assert!(pages.advance(PAGE_ROWS));
        assert_eq!(pages.url(read), format!("{read}&limit=1000&offset=2000"));
    }

    #[test]
    fn a_short_page_is_the_last() {
        let mut pages = Pages::default();
        assert!(!pages.advance(PAGE_ROWS - 1));
        assert!(!Pages::default().advance(0));
    }

    #[test]
    fn a_read_stops_after_max_pages_however_full() {
        let mut pages = Pages::default();
        let read = std::iter::repeat_with(|| pages.advance(PAGE_ROWS))
            .take_while(|more| *more)
            .count();
        assert_eq!(read + 1, MAX_PAGES);
    }
}
