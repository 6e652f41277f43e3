//! The stack's API gateway: one project URL in front of PostgREST, the edge function and the
//! public keys, as a Supabase project has it. Debian's nginx with its Lua module, configured
//! here; no proxy written by hand.
//!
//! - `/rest/v1/…` goes to PostgREST, after the API key check below;
//! - `/functions/v1/…` goes to the edge server as it is (the function checks its own
//!   credentials, as a Supabase function deployed with `verify_jwt = false` does);
//! - `/auth/v1/.well-known/jwks.json` answers the public half of the signing key, and only
//!   that: the JWKS PostgREST reads also holds the legacy HS256 secret;
//! - anything else is a 404.
//!
//! Answers are compressed as Supabase's gateway compresses them (its Envoy configuration, in
//! `supabase/postgres`'s `ansible/files/envoy_config/lds.yaml`: a brotli and a gzip compressor,
//! `min_content_length: 100`, PostgREST's JSON types and the common text types): brotli (the
//! `libnginx-mod-http-brotli-filter` module) or gzip (built into nginx) when the client's
//! `Accept-Encoding` asks for it, with `Vary: Accept-Encoding`, for bodies of 100 bytes or more.
//!
//! API keys, as Supabase's gateway treats them (its self-hosted Kong and Envoy configurations
//! do the same): the `apikey` header (or `?apikey=`) must be one of the project's keys, else
//! 401 before anything upstream sees the request. A user's JWT in `Authorization` passes
//! through; without one, a publishable key becomes the `anon` role's JWT and a secret key the
//! `service_role`'s. A secret key from a browser (told by its `User-Agent`) is a 401. The
//! legacy anon and service-role JWTs pass as they are. A repeated `apikey` header is refused
//! (401) rather than guessed at; a repeated `Authorization` header never reaches the check:
//! nginx itself answers 400.

use std::fmt::Write as _;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use vantage_dev_files::write_private_file;

use crate::error::{Result, XtaskError};
use crate::process::{running_as_root, spawn_server, wait_until_ready};
use crate::tools::{self, NGINX, NGINX_BROTLI, NGINX_LUA};

/// The gateway's `/proc/PID/comm`.
pub const COMM: &str = "nginx";

/// What the gateway needs to know.
pub struct GatewayConfig<'a> {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// PostgREST's port.
    pub rest_port: u16,
    /// The edge server's port.
    pub edge_port: u16,
    /// The publishable key and the JWT (role `anon`) it stands for.
    pub publishable: (&'a str, &'a str),
    /// The secret key and the JWT (role `service_role`) it stands for.
    pub secret: (&'a str, &'a str),
    /// The legacy JWT API keys (anon, service role), accepted as they are.
    pub legacy_keys: [&'a str; 2],
    /// The public JWKS, served at `/auth/v1/.well-known/jwks.json`.
    pub public_jwks: &'a str,
    /// Where its configuration, pid file and scratch folders go.
    pub dir: PathBuf,
    /// Its error log.
    pub log: PathBuf,
}

/// Writes the configuration and starts nginx in the foreground (tracked by PID like the other
/// servers); returns the PID.
pub fn start(config: &GatewayConfig<'_>) -> Result<u32> {
    let nginx = tools::path(&NGINX)?;
    let modules = Modules {
        lua: tools::path(&NGINX_LUA)?,
        brotli: tools::path(&NGINX_BROTLI)?,
    };
    for scratch in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
        let dir = config.dir.join("scratch").join(scratch);
        std::fs::create_dir_all(&dir).map_err(XtaskError::io("creating", &dir))?;
    }
    let file = config.dir.join("nginx.conf");
    // It holds the secret key and the service role's JWT.
    write_private_file(&file, &nginx_conf(config, &modules, running_as_root()))?;
    spawn_server(
        Command::new(nginx)
            .arg("-p")
            .arg(&config.dir)
            .arg("-c")
            .arg(&file)
            .args(["-g", "daemon off;"]),
        &config.log,
    )
}

/// Waits until the gateway answers its JWKS route.
pub fn wait_ready(port: u16, pid: u32, log: &Path, timeout: Duration) -> Result<()> {
    let url = format!("{}/auth/v1/.well-known/jwks.json", url(port));
    wait_until_ready("the gateway (nginx)", pid, log, timeout, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok() && ureq::get(&url).call().is_ok()
    })
}

/// The project URL: `http://127.0.0.1:PORT`.
pub fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// `text` as a Lua string literal (long brackets cannot be closed by a key or a JWT).
fn lua_string(text: &str) -> String {
    format!("[==[{text}]==]")
}

/// `text` as an nginx string in single quotes.
fn nginx_string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The dynamic modules the gateway loads, as Debian installs them.
struct Modules {
    /// The Lua module (the API key check); Debian's NDK module sits beside it.
    lua: PathBuf,
    /// The brotli filter.
    brotli: PathBuf,
}

/// The media types compressed: those of Supabase's Envoy compressors (PostgREST's JSON and
/// its other formats, the common text types) and OpenMetrics text (the edge's `GET metrics`,
/// which Prometheus asks for with `Accept-Encoding: gzip`). `text/html` is left out: both
/// modules always compress it, and nginx warns about it named twice.
///
/// nginx compares a proxied answer's type up to the `;` before its `charset=`, so a type with
/// another parameter first is named with it: the two formats of `GET metrics` send
/// `…; version=…; charset=utf-8`, and would otherwise never match.
const COMPRESSED_TYPES: &str = "application/json application/vnd.pgrst.object+json \
application/vnd.pgrst.array+json application/vnd.pgrst.object application/vnd.pgrst.array \
application/vnd.pgrst.plan application/openapi+json application/geo+json \
application/openmetrics-text \"application/openmetrics-text; version=1.0.0\" \
application/javascript application/xhtml+xml image/svg+xml text/csv text/css text/plain \
\"text/plain; version=0.0.4\" text/xml";

/// Bodies shorter than this are sent as they are (Envoy's `min_content_length` on Supabase):
/// a compressed tiny body is no smaller.
const COMPRESS_MIN_BYTES: u32 = 100;

/// The whole nginx configuration.
fn nginx_conf(config: &GatewayConfig<'_>, modules: &Modules, as_root: bool) -> String {
    let dir = config.dir.display();
    let lua_module = &modules.lua;
    let module_dir = lua_module.parent().unwrap_or(Path::new("/")).display();
    let mut conf = String::new();
    let _ = writeln!(
        conf,
        "# Written by `cargo xtask up`: the stack's API gateway (xtask/src/stack/gateway.rs)."
    );
    let _ = writeln!(conf, "load_module {module_dir}/ndk_http_module.so;");
    let _ = writeln!(conf, "load_module {};", lua_module.display());
    let _ = writeln!(conf, "load_module {};", modules.brotli.display());
    if as_root {
        // The workers need no file of the stack's: everything they serve is in this file.
        conf.push_str("user nobody nogroup;\n");
    }
    let _ = write!(
        conf,
        r#"worker_processes 1;
pid {dir}/nginx.pid;
error_log {log} warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  server_tokens off;
  client_body_temp_path {dir}/scratch/body;
  proxy_temp_path {dir}/scratch/proxy;
  fastcgi_temp_path {dir}/scratch/fastcgi;
  uwsgi_temp_path {dir}/scratch/uwsgi;
  scgi_temp_path {dir}/scratch/scgi;
  # Bodies stay in memory (the workers never write a file).
  client_max_body_size 1m;
  client_body_buffer_size 1m;
  proxy_max_temp_file_size 0;
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host $http_host;
  proxy_set_header X-Forwarded-For $remote_addr;
  proxy_set_header X-Forwarded-Proto $scheme;
  proxy_redirect off;
{compression}  init_by_lua_block {{
{lua}
  }}
  upstream postgrest {{ server 127.0.0.1:{rest_port}; keepalive 32; }}
  upstream edge {{ server 127.0.0.1:{edge_port}; keepalive 32; }}
  server {{
    listen 127.0.0.1:{port};
    default_type application/json;
    location /rest/v1/ {{
      access_by_lua_block {{ gateway.check_api_key() }}
      proxy_pass http://postgrest/;
    }}
    location /functions/v1/ {{
      proxy_pass http://edge;
      proxy_read_timeout 150s;
    }}
    location = /auth/v1/.well-known/jwks.json {{
      add_header Cache-Control "public, max-age=600";
      return 200 {jwks};
    }}
    location / {{
      return 404 '{{"message":"no Route matched with those values"}}';
    }}
  }}
}}
"#,
        log = config.log.display(),
        lua = lua_gateway(config),
        rest_port = config.rest_port,
        edge_port = config.edge_port,
        port = config.port,
        jwks = nginx_string(config.public_jwks),
        compression = compression(),
    );
    conf
}

/// The `http` block's compression directives: as Supabase's gateway compresses (see the
/// module's comment).
fn compression() -> String {
    format!(
        r"  # Where a client accepts both, brotli's filter runs first and gzip's then leaves the answer
  # alone. `gzip_proxied any`: a request that came through a proxy (`Via`) is compressed too.
  # gzip level 6 and brotli quality 3 are Envoy's defaults. nginx compresses answers of status
  # 200, 403 and 404 only (Envoy: any status), so PostgREST's 206 pages go as they are.
  gzip on;
  gzip_vary on;
  gzip_proxied any;
  gzip_comp_level 6;
  gzip_min_length {COMPRESS_MIN_BYTES};
  gzip_types {COMPRESSED_TYPES};
  brotli on;
  brotli_comp_level 3;
  brotli_min_length {COMPRESS_MIN_BYTES};
  brotli_types {COMPRESSED_TYPES};
"
    )
}

/// The API key check, run before a request reaches PostgREST.
fn lua_gateway(config: &GatewayConfig<'_>) -> String {
    format!(
        r#"    gateway = {{}}
    local publishable, anon_jwt = {publishable}, {anon_jwt}
    local secret, service_jwt = {secret}, {service_jwt}
    local legacy = {{ [ {legacy_anon} ] = true, [ {legacy_service} ] = true }}

    -- Fixed texts only: nothing a caller sent is echoed.
    local function refuse(message, hint)
      ngx.status = 401
      ngx.header["Content-Type"] = "application/json"
      ngx.print('{{"message":"' .. message .. '","hint":"' .. hint .. '"}}')
      return ngx.exit(401)
    end

    function gateway.check_api_key()
      -- A browser's CORS preflight carries no key; PostgREST answers it.
      if ngx.req.get_method() == "OPTIONS" then return end
      local headers = ngx.req.get_headers(100)
      local apikey, authorization = headers["apikey"], headers["authorization"]
      if type(apikey) == "table" or type(authorization) == "table" then
        return refuse("Invalid API key", "Send one `apikey` header and at most one `Authorization` header.")
      end
      if apikey == nil or apikey == "" then apikey = ngx.var.arg_apikey end
      if apikey == nil or apikey == "" then
        return refuse("No API key found in request", "No `apikey` request header or url param was found.")
      end
      -- A user's session JWT passes through; an `sb_` key in Authorization does not count.
      local user_jwt = authorization ~= nil and authorization:sub(1, 10) ~= "Bearer sb_"
      local role_jwt
      if apikey == secret then
        local agent = headers["user-agent"]
        if type(agent) == "string" and agent:find("Mozilla/", 1, true) then
          return refuse("Forbidden use of secret API key in browser", "Secret API keys can only be used in a protected environment and should never be used in a browser. Use a publishable key instead.")
        end
        role_jwt = service_jwt
      elseif apikey == publishable then
        role_jwt = anon_jwt
      elseif legacy[apikey] then
        role_jwt = apikey
      else
        return refuse("Invalid API key", "Double check your Supabase `anon` or `service_role` API key.")
      end
      if not user_jwt then
        ngx.req.set_header("Authorization", "Bearer " .. role_jwt)
      end
    end"#,
        publishable = lua_string(config.publishable.0),
        anon_jwt = lua_string(config.publishable.1),
        secret = lua_string(config.secret.0),
        service_jwt = lua_string(config.secret.1),
        legacy_anon = lua_string(config.legacy_keys[0]),
        legacy_service = lua_string(config.legacy_keys[1]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> GatewayConfig<'static> {
        GatewayConfig {
            port: 1,
            rest_port: 2,
            edge_port: 3,
            publishable: ("sb_publishable_p", "anon.jwt"),
            secret: ("sb_secret_s", "service.jwt"),
            legacy_keys: ["legacy.anon", "legacy.service"],
            public_jwks: r#"{"keys":[{"kty":"EC","kid":"k"}]}"#,
            dir: PathBuf::from("/run/gw"),
            log: PathBuf::from("/run/gw/error.log"),
        }
    }

    fn modules(dir: &str) -> Modules {
        Modules {
            lua: PathBuf::from(format!("{dir}/ngx_http_lua_module.so")),
            brotli: PathBuf::from(format!("{dir}/ngx_http_brotli_filter_module.so")),
        }
    }

    #[test]
    fn routes_the_three_prefixes_and_nothing_else() {
        let conf = nginx_conf(&config(), &modules("/usr/lib/nginx/modules"), true);
        assert!(conf.contains("listen 127.0.0.1:1;"));
        assert!(conf.contains("location /rest/v1/ {"));
        assert!(conf.contains("server 127.0.0.1:2;"));
        assert!(conf.contains("location /functions/v1/ {"));
        assert!(conf.contains("server 127.0.0.1:3;"));
        assert!(conf.contains(r#"return 200 '{"keys":[{"kty":"EC","kid":"k"}]}';"#));
        assert!(conf.contains("no Route matched"));
        assert!(conf.contains("load_module /usr/lib/nginx/modules/ndk_http_module.so;"));
        assert!(conf.contains("user nobody nogroup;"));
        assert_eq!(conf.matches("location ").count(), 4);
    }

    #[test]
    fn keys_reach_lua_as_literals_that_cannot_be_closed() {
        let conf = nginx_conf(&config(), &modules("/m"), false);
        assert!(conf.contains("[==[sb_secret_s]==], [==[service.jwt]==]"));
        assert!(conf.contains("[ [==[legacy.anon]==] ] = true"));
        assert!(!conf.contains("user nobody"));
    }

    #[test]
    fn compresses_json_and_text_with_brotli_and_gzip() {
        let conf = nginx_conf(&config(), &modules("/m"), false);
        assert!(conf.contains("load_module /m/ngx_http_brotli_filter_module.so;"));
        for directive in [
            "gzip on;",
            "gzip_vary on;",
            "brotli on;",
            "gzip_min_length 100;",
        ] {
            assert!(conf.contains(directive), "{directive}");
        }
        for kind in ["gzip_types", "brotli_types"] {
            let types = conf
                .lines()
                .find(|line| line.trim_start().starts_with(kind))
                .unwrap_or_default();
            for media in [
                "application/json ",
                "application/vnd.pgrst.object+json",
                "\"application/openmetrics-text; version=1.0.0\"",
                "\"text/plain; version=0.0.4\"",
            ] {
                assert!(types.contains(media), "{kind} lacks {media}: {types}");
            }
            assert!(!types.contains("text/html"), "{kind}: {types}");
        }
    }

    #[test]
    fn nginx_strings_escape_quotes() {
        assert_eq!(nginx_string(r"a'b\c"), r"'a\'b\\c'");
    }
}
