use super::pairs::unescape_key;
use super::*;

fn r(s: &str) -> String {
    redact_text(s, &RedactionPolicy::default())
}

#[test]
fn text_without_secrets_is_unchanged() {
    for s in [
        "",
        "hello world",
        "ratio 3:4, a=b, x == y, std::mem::take, https://example.com/a?b=c#d",
        "my password is long",
        "monkey business: fine",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "bob@example.com wrote at 12:30",
        "ünïcødé ✓ 🦀 sk-short ghp_short AKIA",
    ] {
        assert_eq!(r(s), s);
    }
}

#[test]
fn url_userinfo() {
    assert_eq!(r("postgres://app:s3cret@db:5432/app"), "postgres://<redacted>@db:5432/app");
    assert_eq!(r("git clone https://x-access-token:abc@github.com/o/r"), "git clone https://<redacted>@github.com/o/r");
    assert_eq!(r("redis://:pw@cache"), "redis://<redacted>@cache");
    // A password with an unencoded '@': up to the last one.
    assert_eq!(r("amqp://u:p@ss@mq/vhost"), "amqp://<redacted>@mq/vhost");
    // No userinfo: an '@' after the path is not one.
    assert_eq!(r("https://h/p?mail=a@b"), "https://h/p?mail=a@b");
    assert_eq!(r("\"dsn\":\"mysql://root:toor@localhost\""), "\"dsn\":\"mysql://<redacted>@localhost\"");
}

#[test]
fn bearer_tokens() {
    assert_eq!(r("Authorization: Bearer abc.def"), "Authorization: Bearer <redacted>");
    assert_eq!(r("sent bearer   xyz== then"), "sent bearer   <redacted> then");
    assert_eq!(r("BEARER t0k3n"), "BEARER <redacted>");
    assert_eq!(r("the bearer"), "the bearer");
    assert_eq!(r("bearers t"), "bearers t");
}

#[test]
fn pairs_with_sensitive_keys() {
    assert_eq!(r("GET /cb?code=1&access_token=abc123&state=x"), "GET /cb?code=1&access_token=<redacted>&state=x");
    assert_eq!(r("password=hunter2"), "password=<redacted>");
    assert_eq!(r("API_KEY = 'a b c' next"), "API_KEY = '<redacted>' next");
    assert_eq!(r("token=\"a\nb\" c"), "token=\"<redacted>\" c");
    assert_eq!(r("token='unclosed\nrest"), "token='<redacted>");
    assert_eq!(r(r#"{"client_secret": "x\"y", "id": 1}"#), r#"{"client_secret": "<redacted>", "id": 1}"#);
    assert_eq!(r(r#"body {\"password\":\"p w\"}"#), r#"body {\"password\":\"<redacted>\"}"#);
    assert_eq!(r(r#"{\\\"token\\\": \\\"a\\b\\\"}"#), r#"{\\\"token\\\": \\\"<redacted>\\\"}"#);
    assert_eq!(r("db_pwd: pw1, user: bob"), "db_pwd: <redacted>, user: bob");
    assert_eq!(r("export GITHUB_TOKEN=ghx\n"), "export GITHUB_TOKEN=<redacted>\n");
    assert_eq!(r("token=abc=="), "token=<redacted>");
    assert_eq!(r(r"secret\t=\tabc def"), r"secret\t=\t<redacted>");
    assert_eq!(r(r"secret\t=\tabc def\tuser=x"), r"secret\t=\t<redacted>\tuser=x");
    assert_eq!(r("token="), "token=");
    assert_eq!(r("user=bob"), "user=bob");
    assert_eq!(
        r(r#"{"credentials": {"user": "a", "pass": ["b}"]}, "n": 1}"#),
        r#"{"credentials": <redacted>, "n": 1}"#
    );
    assert_eq!(r("secret=[1, [2, 3]] x"), "secret=<redacted> x");
    assert_eq!(r("token: {unclosed"), "token: <redacted>");
}

#[test]
fn header_values_run_to_the_end_of_the_line_with_the_scheme_kept() {
    assert_eq!(r("Cookie: sid=1; theme=dark\nHost: h"), "Cookie: <redacted>\nHost: h");
    assert_eq!(r("Authorization: Basic dXNlcjpwYXNz"), "Authorization: Basic <redacted>");
    assert_eq!(r("Proxy-Authorization: Digest a=1, b=2\r\n"), "Proxy-Authorization: Digest <redacted>\r\n");
    assert_eq!(r("x-api-key: Token abc rest"), "x-api-key: Token <redacted>");
    assert_eq!(r("x-api-key: Token abc, rest"), "x-api-key: Token <redacted>, rest");
    assert_eq!(r(r#""Cookie: a=1; b=2\nHost: h""#), r#""Cookie: <redacted>\nHost: h""#);
}

#[test]
fn short_key_words_count_as_the_last_word_of_a_key() {
    assert_eq!(r("pass=hunter2"), "pass=<redacted>");
    assert_eq!(r("db_pass: hunter2, user: bob"), "db_pass: <redacted>, user: bob");
    assert_eq!(r("--pass=x1 --verbose"), "--pass=<redacted> --verbose");
    assert_eq!(r("auth=abc123&next=1"), "auth=<redacted>&next=1");
    assert_eq!(r("X-Auth: abc123\nHost: h"), "X-Auth: <redacted>\nHost: h");
    assert_eq!(
        r(r#"{"smtpPass": "a b", "basicAuth": "u:p"}"#),
        r#"{"smtpPass": "<redacted>", "basicAuth": "<redacted>"}"#
    );
    assert_eq!(r(r#"{\"auth\":\"x\"}"#), r#"{\"auth\":\"<redacted>\"}"#);
    assert_eq!(r("url_sig=abc"), "url_sig=<redacted>");
    // Whole words only, and `signature` alone is prose.
    for s in [
        "passage: the door",
        "bypass=true",
        "compass: north",
        "author: Ann Lee",
        "authority: ca.example",
        "oauth: enabled",
        "auth_method: basic",
        "pass_through=yes",
        "invalid signature: expected abc",
        "Signature: valid",
        "the passage, the author and the signature, on authority",
        "tests pass, auth works",
    ] {
        assert_eq!(r(s), s);
    }
}

#[test]
fn presigned_url_signatures() {
    let s3 = "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20240101%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=fe5f80f77d5fa3be";
    assert_eq!(
        r(s3),
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<redacted>&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=<redacted>"
    );
    let sas = "https://a.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sp=r&sig=abc%2Bdef%3D&se=2024";
    assert_eq!(r(sas), "https://a.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sp=r&sig=<redacted>&se=2024");
    assert_eq!(
        r("https://s.googleapis.com/b/o?X-Goog-Signature=0a1b2c"),
        "https://s.googleapis.com/b/o?X-Goog-Signature=<redacted>"
    );
    // CloudFront: `Signature` alone, as a query parameter.
    assert_eq!(
        r("https://d.cloudfront.net/i.jpg?Expires=1&Signature=ab~c-d_"),
        "https://d.cloudfront.net/i.jpg?Expires=1&Signature=<redacted>"
    );
    // In a query string the value ends at `&` or the end of the URL.
    assert_eq!(r("see https://h/x?sig=abc then more"), "see https://h/x?sig=<redacted> then more");
}

#[test]
fn webhook_urls_lose_their_path() {
    assert_eq!(
        r("post to https://hooks.slack.com/services/T0000/B0000/XXXXXXXX now"),
        "post to https://hooks.slack.com/services/<redacted> now"
    );
    assert_eq!(
        r(r#"{"url":"https://Hooks.Slack.com/workflows/T1/A2/3/abc"}"#),
        r#"{"url":"https://Hooks.Slack.com/workflows/<redacted>"}"#
    );
    assert_eq!(
        r("https://discord.com/api/webhooks/1/tok?wait=1"),
        "https://discord.com/api/webhooks/<redacted>?wait=1"
    );
    for s in ["https://hooks.slack.com/", "https://api.slack.com/services/x", "xhooks.slack.com/services/T0/B0/x"] {
        assert_eq!(r(s), s);
    }
}

#[test]
fn bare_basic_credentials_are_recognised_by_what_they_decode_to() {
    assert_eq!(r("sent Basic dXNlcjpwYXNz to it"), "sent Basic <redacted> to it");
    assert_eq!(r(r#"{"h":"basic YWxhZGRpbjpvcGVuIHNlc2FtZQ=="}"#), r#"{"h":"basic <redacted>"}"#);
    assert_eq!(r("Basic dTpw"), "Basic <redacted>", "u:p");
    assert_eq!(r("Basic%20dXNlcjpwYXNz"), "Basic%20<redacted>");
    // Prose, or base64 that is no `user:password`.
    for s in ["Basic usage: run it", "Basic HTTP auth", "Basic idea", "basic dXNlcnBhc3M=", "Basic AAECAwQ6"] {
        assert_eq!(r(s), s);
    }
}

#[test]
fn bearer_after_a_colon_or_an_encoded_space() {
    assert_eq!(r("bearer:abc.def rest"), "bearer:<redacted> rest");
    assert_eq!(r("Bearer: abc"), "Bearer: <redacted>");
    assert_eq!(r("h=Bearer%20abc%2Bdef&x=1"), "h=Bearer%20<redacted>&x=1");
    assert_eq!(r("Authorization%3A%20Bearer%20abc"), "Authorization%3A%20Bearer%20<redacted>");
    assert_eq!(r("bearer+abc"), "bearer+<redacted>");
    assert_eq!(r("%2Fghp_0123456789abcdefghijABCDEFGHIJ0123456789"), "%2F<redacted>");
    for s in ["Bearer::new(t)", "the bearer:", "bearer%2", "bearerx:abc"] {
        assert_eq!(r(s), s);
    }
}

#[test]
fn a_password_glued_to_a_mysql_p_option() {
    assert_eq!(r("mysql -uroot -ps3cr3t appdb"), "mysql -uroot -p<redacted> appdb");
    assert_eq!(r("/usr/bin/mysqldump -h db -p'a b' x"), "/usr/bin/mysqldump -h db -p'<redacted>' x");
    assert_eq!(r(r#"{"cmd":"mariadb -u r -p\"a b\" x"}"#), r#"{"cmd":"mariadb -u r -p\"<redacted>\" x"}"#);
    // A value stops before a command word, which starts its command line.
    assert_eq!(r("MYSQL_PWD=x mysql -pY"), "MYSQL_PWD=<redacted> mysql -p<redacted>");
    assert_eq!(r("pass=x y /usr/bin/mysql -pY"), "pass=<redacted> /usr/bin/mysql -p<redacted>");
    for s in [
        "mkdir -p /tmp/x",
        "mysql -p appdb",
        "mysql -P3306 db",
        "ssh -p22 host",
        "mysql -u root; cp -pR a b",
        "mysql -u root && cp -pR a b",
        "mysql -u root\ncp -pR a b",
        r"mysql -u root\ncp -pR a b",
        "mysql -u root-pX",
    ] {
        assert_eq!(r(s), s);
    }
}

#[test]
fn keys_written_with_json_escapes() {
    assert_eq!(r(r#"{"p\u0061ssword": "x y"}"#), r#"{"p\u0061ssword": "<redacted>"}"#);
    assert_eq!(r(r#"{"\u0074oken":"x"}"#), r#"{"\u0074oken":"<redacted>"}"#);
    assert_eq!(r(r#"{\"p\\u0061ss\":\"x\"}"#), r#"{\"p\\u0061ss\":\"<redacted>\"}"#);
    assert_eq!(r(r#"{"\u0050\u0041\u0053\u0053": 1}"#), r#"{"\u0050\u0041\u0053\u0053": <redacted>}"#);
    // A JSON escape before a key is not part of it.
    assert_eq!(r(r"line\npass=x"), r"line\npass=<redacted>");
    assert_eq!(r(r"C:\\pass=x"), r"C:\\pass=<redacted>");
    assert_eq!(r(r#"{"a\u0020pass": "x"}"#), r#"{"a\u0020pass": "<redacted>"}"#, "as `a pass: x`");
    for s in [r#"{"\u0070assage": "x"}"#, r#"{"pass\u00e9": "x"}"#] {
        assert_eq!(r(s), s);
    }
    assert_eq!(unescape_key(r"x\u0020pass"), (7, "pass".to_string(), false));
    assert_eq!(unescape_key(r"ab\\u00"), (4, "u00".to_string(), false));
    assert_eq!(unescape_key(r"a\npass"), (2, "npass".to_string(), true));
    assert_eq!(unescape_key(r"a\n"), (2, "n".to_string(), true));
    assert_eq!(unescape_key(r"a\"), (2, String::new(), false));
    // After a backslash, a key is read with and without its first letter.
    assert_eq!(r(r"C:\Users\token=abc"), r"C:\Users\token=<redacted>");
    assert_eq!(r(r"a\tauth=x"), r"a\tauth=<redacted>");
    assert_eq!(r(r"line\rname=DB_PASSWORD value=x"), r"line\rname=DB_PASSWORD value=<redacted>");
}

#[test]
fn an_unquoted_value_runs_over_its_words() {
    assert_eq!(r("password=correct horse battery staple"), "password=<redacted>");
    assert_eq!(r("password=correct horse battery\nnext line"), "password=<redacted>\nnext line");
    assert_eq!(r(r"password=correct horse\nnext"), r"password=<redacted>\nnext");
    assert_eq!(r("password: correct horse, user: bob"), "password: <redacted>, user: bob");
    assert_eq!(r("password=correct horse; x"), "password=<redacted>; x");
    assert_eq!(r("password=correct horse user=bob"), "password=<redacted> user=bob");
    assert_eq!(r("level=error password: a b msg:x"), "level=error password: <redacted> msg:x");
    assert_eq!(r("mysql --password=correct horse --host db"), "mysql --password=<redacted> --host db");
    assert_eq!(r("token=abc at 12:30"), "token=<redacted> 12:30");
    assert_eq!(r("token=abc see https://example.com"), "token=<redacted> https://example.com");
    assert_eq!(
        r(r#"msg="login failed password=correct horse" user=bob"#),
        r#"msg="login failed password=<redacted>" user=bob"#
    );
    assert_eq!(r("(password=a b) c"), "(password=<redacted>) c");
    assert_eq!(r("password=a b   "), "password=<redacted>   ");
    assert_eq!(r(r"password=C:\dir\x y"), "password=<redacted>");
    assert_eq!(r(r#"{\"note\":\"password=a b\"}"#), r#"{\"note\":\"password=<redacted>\"}"#);
    // It stops before a pair's key whatever the blanks, and runs over
    // what ends base64 (a bare `Basic` credential's padding).
    assert_eq!(r("password=a b user = c"), "password=<redacted> user = c");
    assert_eq!(r(r#"password=a b password = "c d""#), r#"password=<redacted> password = "<redacted>""#);
    assert_eq!(r(r"password=a b user\t:\tc"), r"password=<redacted> user\t:\tc");
    assert_eq!(r(r#"password=a b   password="c d""#), r#"password=<redacted>   password="<redacted>""#);
    assert_eq!(r("password=a b c== d"), "password=<redacted>");
    assert_eq!(r("password=a user= b"), "password=<redacted>");
    assert_eq!(r("password=a Basic dXNlcjpaZ3E= b"), "password=<redacted> Basic <redacted> b");
    assert_eq!(r(r#""password=a Basic dXNlcjpaZ3E=""#), r#""password=<redacted> Basic <redacted>""#);
    assert_eq!(r("password=a bearer b c"), "password=<redacted> bearer <redacted> c");
    // A name is one word; so is a query string's value.
    assert_eq!(r("name=DB PASSWORD value=v"), "name=DB PASSWORD value=v");
    assert_eq!(r("https://h/cb?token=abc def"), "https://h/cb?token=<redacted> def");
    // The named value runs over its words too.
    assert_eq!(r("name=API_TOKEN value=a b c"), "name=API_TOKEN value=<redacted>");
}

#[test]
fn a_pair_naming_a_secret_redacts_the_value_that_follows() {
    assert_eq!(
        r(r#"[{"name":"API_TOKEN","value":"v1"},{"name":"HOME","value":"/root"}]"#),
        r#"[{"name":"API_TOKEN","value":"<redacted>"},{"name":"HOME","value":"/root"}]"#
    );
    assert_eq!(r("name=DB_PASSWORD value=v2"), "name=DB_PASSWORD value=<redacted>");
    // Too far after the name: another object.
    let far = format!("name=API_TOKEN {} value=v3", "x".repeat(100));
    assert_eq!(r(&far), far);
}

#[test]
fn token_shapes() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    assert_eq!(r(&format!("jwt {jwt}.")), "jwt <redacted>.");
    assert_eq!(r("key AKIAIOSFODNN7EXAMPLE used"), "key <redacted> used");
    assert_eq!(r("(ghp_0123456789abcdefghijABCDEFGHIJ0123456789)"), "(<redacted>)");
    assert_eq!(r("sk-proj-abcdefghij0123456789XYZ"), "<redacted>");
    // Not at a word start: part of another word.
    assert_eq!(r("task-abcdefghij0123456789XYZ"), "task-abcdefghij0123456789XYZ");
}

#[test]
fn pem_private_key_blocks() {
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----";
    assert_eq!(r(&format!("key:\n{pem}\nbye")), "key:\n<redacted>\nbye");
    let openssh = "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3Blbn\\n-----END OPENSSH PRIVATE KEY-----";
    assert_eq!(r(&format!("\"{openssh}\"")), "\"<redacted>\"");
    // Cut before its END line: everything after BEGIN goes.
    assert_eq!(r("x -----BEGIN PRIVATE KEY-----\nMIIEv"), "x <redacted>");
    // A redaction that swallows a BEGIN line takes its block with it.
    assert_eq!(r(&format!("Authorization: Bearer x {pem}\nbye")), "Authorization: Bearer <redacted>\nbye");
    assert_eq!(r(&format!("PRIVATE_KEY=\"{pem}\"\nnext=1")), "PRIVATE_KEY=\"<redacted>\"\nnext=1");
    assert_eq!(r(&format!("private_key={pem}\nbye")), "private_key=<redacted>\nbye");
    // A region that ends just before multi-byte text is no BEGIN.
    assert_eq!(r("token=x; ééééééé"), "token=<redacted>; ééééééé");
    assert_eq!(r("token=x ééééééé"), "token=<redacted>");
    assert_eq!(r("-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQ\n-----END PGP PRIVATE KEY BLOCK-----"), "<redacted>");
}

#[test]
fn trap_messages_keep_their_backtrace_and_lose_their_secrets() {
    let trap = "component 'faults' failed: error while executing at wasm backtrace:\n    0:  0x33bae - faults.wasm!abort\n    1:  0x2699c - faults.wasm!std::panicking::panic_with_hook\nCaused by:\n    wasm trap: wasm `unreachable` instruction executed (connecting to postgres://svc:pw9@db with Authorization: Bearer tkn)";
    let out = r(trap);
    assert!(out.contains("0:  0x33bae - faults.wasm!abort"), "{out}");
    assert!(out.contains("std::panicking::panic_with_hook"), "{out}");
    assert!(!out.contains("pw9") && !out.contains("tkn"), "{out}");
}

#[test]
fn extra_fragments_apply_to_pairs() {
    let p = RedactionPolicy::with_extra_keys(["ssn"]);
    assert_eq!(redact_text("patient_ssn=123-45-6789, ok", &p), "patient_ssn=<redacted>, ok");
}

#[test]
fn pathological_inputs_stay_linear() {
    // Each would be quadratic with a naive rescan; 1 MB must take well
    // under a second even in a debug build.
    let inputs = [
        "name=".repeat(200_000),
        "a=".repeat(500_000),
        format!("token={}", "x".repeat(1_000_000)),
        "http://".repeat(150_000),
        "-----BEGIN ".repeat(100_000),
        "eyJaaaaaaaaaa.".repeat(70_000),
        " :".repeat(500_000),
        "secret={".repeat(100_000),
        "id=".repeat(300_000),
        format!("{}=", " ".repeat(1_000_000)),
        "bearer ".repeat(150_000),
        "password=a ".repeat(100_000),
        "mysql -p".repeat(100_000),
        "mysql -p{".repeat(100_000),
        "Basic dXNlcjpwYXNz".repeat(60_000),
        "basic ".repeat(150_000),
        format!("Basic {}", "A".repeat(1_000_000)),
        "hooks.slack.com/services/".repeat(40_000),
        r"p\u0061ssword=".repeat(60_000),
        format!("{}=x", r"\u0061".repeat(200_000)),
        "x y z ".repeat(150_000) + "secret=a",
        format!("secret=a {}", "b ".repeat(500_000)),
    ];
    for input in inputs {
        let started = std::time::Instant::now();
        let _ = r(&input);
        // Linear work takes well under a second even unoptimised; a
        // quadratic scan of a megabyte takes minutes. The bound is loose so
        // that a busy machine cannot fail it.
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{}…", &input[..20]);
    }
}
