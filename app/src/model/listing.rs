//! Which cards a list shows and in what order: the summary's filters and counts, the name
//! filter, and the sort (red, yellow, green, then name).

use super::card::Card;
use super::health::Health;

impl Card {
    /// Whether the card passes a filter (a health, or late) and a name filter (substring,
    /// ASCII letters case-insensitive; blank matches all). ASCII folding only: resource names
    /// are identifiers, and Unicode case tables would cost the bundle about 4 KB.
    pub fn matches(&self, filter: Option<Filter>, name: &str) -> bool {
        let needle = name.trim().as_bytes();
        filter.is_none_or(|f| match f {
            Filter::Health(h) => h == self.health,
            Filter::Late => self.is_late(),
        }) && (needle.is_empty()
            || self
                .resource
                .as_bytes()
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle)))
    }
}

/// Sorts cards red, yellow, green, then by resource name in byte order (the view's `sort_key`
/// with collation "C").
pub fn sort_cards(cards: &mut [Card]) {
    cards.sort_by(|a, b| (a.health, &a.resource).cmp(&(b.health, &b.resource)));
}

/// What a summary button shows: the cards of one health, or the late ones (yellow, or red
/// and late as well: a late resource is counted under its health and here too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Filter {
    /// Cards of this health.
    Health(Health),
    /// Cards whose schedule's next run is overdue past the grace.
    Late,
}

impl Filter {
    /// Every filter, in the summary's order.
    pub const ALL: [Self; 4] = [
        Self::Health(Health::Red),
        Self::Health(Health::Yellow),
        Self::Health(Health::Green),
        Self::Late,
    ];

    /// Its button's words.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Health(health) => health.label(),
            Self::Late => "Late",
        }
    }

    /// Its button's CSS modifier (`vss-health-red`, `vss-filter-late`).
    pub const fn class(self) -> &'static str {
        match self {
            Self::Health(Health::Red) => "vss-health-red",
            Self::Health(Health::Yellow) => "vss-health-yellow",
            Self::Health(Health::Green) => "vss-health-green",
            Self::Late => "vss-filter-late",
        }
    }
}

/// How many cards have each health, and how many are late.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Red cards.
    pub red: usize,
    /// Yellow cards.
    pub yellow: usize,
    /// Green cards.
    pub green: usize,
    /// Late cards (also counted under their health).
    pub late: usize,
}

impl Counts {
    /// Counts `cards` by health, and the late ones.
    pub fn of(cards: &[Card]) -> Self {
        cards.iter().fold(Self::default(), |mut c, card| {
            match card.health {
                Health::Red => c.red += 1,
                Health::Yellow => c.yellow += 1,
                Health::Green => c.green += 1,
            }
            c.late += usize::from(card.is_late());
            c
        })
    }

    /// The count for one filter.
    pub const fn get(self, filter: Filter) -> usize {
        match filter {
            Filter::Health(Health::Red) => self.red,
            Filter::Health(Health::Yellow) => self.yellow,
            Filter::Health(Health::Green) => self.green,
            Filter::Late => self.late,
        }
    }

    /// All cards.
    pub const fn total(self) -> usize {
        self.red + self.yellow + self.green
    }
}

#[cfg(test)]
mod tests {
    use super::super::card::fixtures::card;
    use super::super::card_text::updated_text;
    use super::super::health::Status;
    use super::super::span::SECOND;
    use super::*;

    #[test]
    fn sorted_red_yellow_green_then_name_and_filtered() {
        let mk = |name: &str, health| {
            let mut c = card(Status::Success);
            c.resource = name.to_owned();
            c.health = health;
            c
        };
        let mut cards = vec![
            mk("b", Health::Green),
            mk("a", Health::Green),
            mk("z", Health::Red),
            mk("c", Health::Yellow),
            mk("a", Health::Red),
        ];
        sort_cards(&mut cards);
        let order: Vec<(&str, Health)> = cards
            .iter()
            .map(|c| (c.resource.as_str(), c.health))
            .collect();
        assert_eq!(
            order,
            [
                ("a", Health::Red),
                ("z", Health::Red),
                ("c", Health::Yellow),
                ("a", Health::Green),
                ("b", Health::Green)
            ]
        );
        let counts = Counts::of(&cards);
        assert_eq!(
            (counts.red, counts.yellow, counts.green, counts.total()),
            (2, 1, 2, 5)
        );
        assert!(cards[0].matches(Some(Filter::Health(Health::Red)), " A "));
        assert!(!cards[0].matches(Some(Filter::Health(Health::Green)), ""));
        assert!(!cards[0].matches(None, "zz"));
        assert_eq!(updated_text(12 * SECOND), "Updated 12 s ago");
    }
}
