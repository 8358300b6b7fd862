//! Real-browser support for the journeys in `browser.rs`: Debian's headless Chromium driven
//! over WebDriver (fantoccini) through one ChromeDriver per test process, axe-core injected
//! into every page, and screenshots saved under docs/screenshots/.
//!
//! Without Chromium, ChromeDriver or axe-core the journeys print one line (once per process)
//! and return, unless `CI=true`, where a missing piece fails them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

const SKIP_HINT: &str = "set CI=true to require them";

/// Where the pieces are, once found.
struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
    axe: PathBuf,
}

fn on_path(name: &str) -> Option<PathBuf> {
    let usual = Path::new("/usr/bin").join(name);
    if usual.is_file() {
        return Some(usual);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

fn axe_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/node_modules/axe-core/axe.min.js")
}

/// What is missing, as one sentence, or the tools.
fn find_tools() -> Result<Tools, String> {
    let chromium = on_path("chromium");
    let chromedriver = on_path("chromedriver");
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        return Err(
            "chromium/chromedriver not installed (apt-get install chromium chromium-driver)".into(),
        );
    };
    let axe = axe_path();
    if !axe.is_file() {
        return Err(format!(
            "axe-core not installed at {} (cd tests/browser && npm ci)",
            axe.display()
        ));
    }
    Ok(Tools {
        chromium,
        chromedriver,
        axe,
    })
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

static SKIP_NOTICE: Once = Once::new();

/// Whether the journeys can run here. Prints the reason once per process when they cannot,
/// and fails instead under CI=true.
pub fn browser_available() -> bool {
    match find_tools() {
        Ok(_) => true,
        Err(why) if ci() => panic!("browser journeys cannot run under CI=true: {why}"),
        Err(why) => {
            SKIP_NOTICE.call_once(|| {
                // Straight to the process's stderr: the test harness captures `eprintln!`.
                let _ = writeln!(
                    std::io::stderr(),
                    "browser journeys skipped: {why}; {SKIP_HINT}"
                );
            });
            false
        }
    }
}

// ---------------------------------------------------------------- ChromeDriver, once

/// One ChromeDriver for the whole test process: each journey opens its own sessions (and so
/// its own Chromium with its own fresh profile) on it, in parallel. Starting one per test
/// would only add a start-up wait and more processes to clean up.
struct Driver {
    url: String,
    child: Mutex<Child>,
    tools: Tools,
    axe_source: String,
}

static DRIVER: OnceLock<Driver> = OnceLock::new();

extern "C" fn stop_driver() {
    if let Some(driver) = DRIVER.get() {
        if let Ok(mut child) = driver.child.lock() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    let _ = std::fs::remove_dir_all(profiles_root());
}

fn profiles_root() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("chromium-profiles")
        .join(std::process::id().to_string())
}

/// Profiles left by test processes that were killed.
fn remove_abandoned_profiles() {
    let Some(root) = profiles_root().parent().map(Path::to_path_buf) else {
        return;
    };
    for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // SAFETY: signal 0 only asks whether the process exists.
        if unsafe { libc::kill(pid, 0) } != 0 {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn driver() -> &'static Driver {
    DRIVER.get_or_init(|| {
        let tools = find_tools().expect("checked by browser_available");
        remove_abandoned_profiles();
        let axe_source = std::fs::read_to_string(&tools.axe).expect("axe-core is readable");
        let port = free_port();
        let child = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("chromedriver starts: {e}"));
        // SAFETY: registering a plain extern "C" function with no captured state.
        unsafe { libc::atexit(stop_driver) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            url: format!("http://127.0.0.1:{port}"),
            child: Mutex::new(child),
            tools,
            axe_source,
        }
    })
}

// ---------------------------------------------------------------- one browser window

/// With JavaScript on, every page is checked with axe and screenshots may be taken; with it
/// off (Chrome's content setting), the same clicks prove the forms need no script.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Script {
    On,
    Off,
}

/// One person's Chromium: a WebDriver session with a profile of its own.
#[derive(Clone)]
pub struct Window {
    pub client: Client,
    pub base_url: String,
    script: Script,
    who: String,
    profile: PathBuf,
}

const VIOLATIONS: &str = r#"
const serious = ["serious", "critical"];
return axe.run(document, { resultTypes: ["violations"] }).then(function (results) {
  return results.violations
    .filter(function (v) { return serious.indexOf(v.impact) >= 0; })
    .map(function (v) {
      return v.impact + " " + v.id + ": " + v.help + "\n" + v.nodes.map(function (n) {
        return "    at " + n.target.join(" ") + "\n      " + (n.failureSummary || "").replace(/\n/g, "\n      ");
      }).join("\n");
    });
});
"#;

impl Window {
    /// A new Chromium (headless, no network beyond loopback, fresh profile) for `who`.
    pub async fn open(base_url: &str, who: &str, script: Script) -> Window {
        let driver = driver();
        let profile = profiles_root().join(uuid::Uuid::new_v4().simple().to_string());
        std::fs::create_dir_all(&profile).unwrap();
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--no-default-browser-check".into(),
            "--no-proxy-server".into(),
            "--window-size=1280,900".into(),
            "--lang=en-GB".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut options = json!({
            "binary": driver.tools.chromium.to_string_lossy(),
            "args": args,
        });
        if script == Script::Off {
            options["prefs"] = json!({
                "profile.managed_default_content_settings.javascript": 2
            });
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("pageLoadStrategy".into(), json!("normal"));
        capabilities.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| panic!("a Chromium session starts: {e}"));
        Window {
            client,
            base_url: base_url.to_string(),
            script,
            who: who.to_string(),
            profile,
        }
    }

    /// Ends the session (Chromium exits) and removes its profile.
    pub async fn close(self) {
        let _ = self.client.close().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }

    /// The first page of a journey (or a link from an email): typed into the address bar.
    pub async fn visit(&self, path_or_url: &str) {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_string()
        } else {
            format!("{}{path_or_url}", self.base_url)
        };
        self.client.goto(&url).await.unwrap();
        self.check().await;
    }

    /// The `<html>` element's WebDriver id: it changes when a new document loads.
    async fn document_id(&self) -> String {
        self.client
            .find(Locator::Css("html"))
            .await
            .unwrap()
            .element_id()
            .to_string()
    }

    /// Clicks, waits for the next page to load, and checks it.
    async fn click_to_next_page(&self, element: fantoccini::elements::Element, what: &str) {
        let before = self.document_id().await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("{}: clicking {what}: {e}", self.who));
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(html) = self.client.find(Locator::Css("html")).await {
                if html.element_id().to_string() != before {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{}: no new page after clicking {what} (still at {})",
                self.who,
                self.client.current_url().await.unwrap()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.check().await;
    }

    async fn find(&self, xpath: &str, what: &str) -> fantoccini::elements::Element {
        match self.client.find(Locator::XPath(xpath)).await {
            Ok(element) => element,
            Err(e) => panic!(
                "{}: no {what} on {} ({e}); the page says:\n{}",
                self.who,
                self.client.current_url().await.unwrap(),
                self.main_text().await
            ),
        }
    }

    /// The first `tag` under `scope` whose text (visually hidden text included) is `text`,
    /// or failing that, contains it.
    async fn find_by_text(
        &self,
        scope: &str,
        tag: &str,
        text: &str,
    ) -> fantoccini::elements::Element {
        let exact = format!("{scope}//{tag}[normalize-space(.)={}]", literal(text));
        if let Ok(element) = self.client.find(Locator::XPath(&exact)).await {
            return element;
        }
        let what = format!("a {tag} \"{text}\"");
        self.find(
            &format!(
                "{scope}//{tag}[contains(normalize-space(.), {})]",
                literal(text)
            ),
            &what,
        )
        .await
    }

    /// Clicks the button labelled `text` (see `find_by_text`) and checks the next page.
    pub async fn press(&self, text: &str) {
        self.press_in("", text).await;
    }

    /// `press` within the part of the page that `scope` (an XPath) selects.
    pub async fn press_in(&self, scope: &str, text: &str) {
        let button = self.find_by_text(scope, "button", text).await;
        self.click_to_next_page(button, &format!("the button \"{text}\""))
            .await;
    }

    /// Follows the link labelled `text` (see `find_by_text`) and checks the next page.
    pub async fn follow(&self, text: &str) {
        let link = self.find_by_text("", "a", text).await;
        self.click_to_next_page(link, &format!("the link \"{text}\""))
            .await;
    }

    /// Reloads the page (as a person pressing F5 would) and checks it.
    pub async fn reload(&self) {
        self.client.refresh().await.unwrap();
        self.check().await;
    }

    /// Opens a `<details>` whose summary contains `text` (native HTML: no script needed).
    pub async fn expand(&self, text: &str) {
        let what = format!("the summary \"{text}\"");
        self.find(
            &format!("//summary[contains(normalize-space(.), {})]", literal(text)),
            &what,
        )
        .await
        .click()
        .await
        .unwrap();
    }

    /// The form control labelled `label` (its `<label for>` text).
    async fn control(&self, label: &str) -> fantoccini::elements::Element {
        let xpath = format!(
            "//*[@id=//label[normalize-space(.)={}]/@for]",
            literal(label)
        );
        self.find(&xpath, &format!("a field labelled \"{label}\""))
            .await
    }

    /// Types into the field labelled `label`, as a person would (clearing it first).
    pub async fn fill(&self, label: &str, value: &str) {
        let field = self.control(label).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Ticks the checkbox or radio button labelled `label`.
    pub async fn tick(&self, label: &str) {
        self.control(label).await.click().await.unwrap();
    }

    /// Chooses the option shown as `option` in the select labelled `label`.
    pub async fn choose(&self, label: &str, option: &str) {
        let select = self.control(label).await;
        select
            .find(Locator::XPath(&format!(
                ".//option[normalize-space(.)={}]",
                literal(option)
            )))
            .await
            .unwrap_or_else(|e| panic!("{}: no option \"{option}\" in \"{label}\": {e}", self.who))
            .click()
            .await
            .unwrap();
    }

    /// The visible text of the first element matching `css`.
    pub async fn text_of(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap(),
            Err(e) => panic!(
                "{}: no {css} on {} ({e}); the page says:\n{}",
                self.who,
                self.client.current_url().await.unwrap(),
                self.main_text().await
            ),
        }
    }

    /// The visible text of `<main>`.
    pub async fn main_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    pub async fn heading(&self) -> String {
        self.text_of("h1").await
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    /// Asserts the page's `<main>` shows `text`.
    pub async fn sees(&self, text: &str) {
        let shown = self.main_text().await;
        assert!(
            shown.contains(text),
            "{}: expected \"{text}\" on {}; the page says:\n{shown}",
            self.who,
            self.client.current_url().await.unwrap()
        );
    }

    /// Runs axe-core on the page (JavaScript on) and fails on a serious or critical violation.
    pub async fn check(&self) {
        if self.script == Script::Off {
            return;
        }
        let violations = self.violations().await;
        assert!(
            violations.is_empty(),
            "{}: accessibility violations on {} ({}):\n{}",
            self.who,
            self.client.current_url().await.unwrap(),
            self.client.title().await.unwrap_or_default(),
            violations.join("\n")
        );
    }

    /// axe-core's serious and critical violations on the current page.
    pub async fn violations(&self) -> Vec<String> {
        let loaded = self
            .client
            .execute("return typeof window.axe === 'object';", vec![])
            .await
            .unwrap();
        if loaded != Value::Bool(true) {
            self.client
                .execute(&driver().axe_source, vec![])
                .await
                .expect("axe-core loads into the page");
        }
        let found = self
            .client
            .execute(VIOLATIONS, vec![])
            .await
            .expect("axe runs");
        serde_json::from_value(found).unwrap()
    }

    /// How many axe rules the current page passed (to show the check really ran).
    pub async fn rules_passed(&self) -> u64 {
        self.violations().await;
        self.client
            .execute(
                "return axe.run(document).then(function (r) { return r.passes.length; });",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap()
    }

    /// A PNG of the whole page (the window is stretched to its height) in docs/screenshots/.
    pub async fn screenshot(&self, name: &str) {
        assert_eq!(
            self.script,
            Script::On,
            "screenshots come from the checked run"
        );
        // The page's height plus whatever the window adds around the page.
        let height = self
            .client
            .execute(
                "return Math.ceil(document.body.getBoundingClientRect().bottom + window.scrollY \
                 + window.outerHeight - window.innerHeight);",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(900)
            .clamp(400, 4000) as u32;
        self.client.set_window_size(1280, height).await.unwrap();
        let png = self.client.screenshot().await.unwrap();
        self.client.set_window_size(1280, 900).await.unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        // Written aside and renamed, so that two test runs at once never leave half a file.
        let partial = dir.join(format!(".{name}.{}.png", std::process::id()));
        std::fs::write(&partial, png).unwrap();
        std::fs::rename(&partial, dir.join(format!("{name}.png"))).unwrap();
    }

    /// Makes the page `css_px` CSS pixels wide (the window is resized; the page's own width,
    /// `innerWidth`, is checked). 320 is WCAG 1.4.10's phone; 640 is what a 1280-pixel screen
    /// shows at 200% zoom (zooming divides the CSS pixels, which is all a layout sees).
    pub async fn at_width(&self, css_px: u32) {
        self.client.set_window_size(css_px, 900).await.unwrap();
        let inner = self
            .client
            .execute("return window.innerWidth;", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap();
        assert_eq!(
            inner,
            u64::from(css_px),
            "{}: the page is {inner} px wide",
            self.who
        );
    }

    /// Asserts nothing makes the page scroll sideways (WCAG 1.4.10 Reflow), naming the widest
    /// elements when something does.
    pub async fn has_no_sideways_scroll(&self) {
        let found = self
            .client
            .execute(
                "const d = document.documentElement; \
                 const wide = [...document.querySelectorAll('body *')] \
                   .filter(e => e.getBoundingClientRect().right > d.clientWidth + 1) \
                   .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)); \
                 return [d.scrollWidth, d.clientWidth, wide.join('; ')];",
                vec![],
            )
            .await
            .unwrap();
        let (scroll, client) = (found[0].as_u64().unwrap(), found[1].as_u64().unwrap());
        assert!(
            scroll <= client,
            "{}: {} scrolls sideways at {client} px ({scroll} px wide): {}",
            self.who,
            self.client.current_url().await.unwrap(),
            found[2]
        );
    }

    /// A screenshot as the page looks `css_px` wide (a phone), in docs/screenshots/.
    pub async fn screenshot_at(&self, name: &str, css_px: u32) {
        let height = self
            .client
            .execute(
                "return Math.ceil(document.body.getBoundingClientRect().bottom + window.scrollY);",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(900)
            .clamp(400, 6000) as u32;
        self.client.set_window_size(css_px, height).await.unwrap();
        let png = self.client.screenshot().await.unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let partial = dir.join(format!(".{name}.{}.png", std::process::id()));
        std::fs::write(&partial, png).unwrap();
        std::fs::rename(&partial, dir.join(format!("{name}.png"))).unwrap();
        self.client.set_window_size(css_px, 900).await.unwrap();
    }

    /// Whether this window runs page scripts (a page with an inline script says so).
    pub async fn runs_scripts(&self) -> bool {
        self.client
            .goto("data:text/html,<title>before</title><script>document.title='after'</script>")
            .await
            .unwrap();
        self.client.title().await.unwrap() == "after"
    }
}

/// An XPath string literal for any text.
fn literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// Runs a journey, then closes every window it opened, also when it fails (so no Chromium is
/// left behind), and reports the failure.
pub async fn with_windows<F, Fut>(journey: F)
where
    F: FnOnce(Windows) -> Fut,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let windows = Windows::default();
    let outcome = actix_web::rt::spawn(journey(windows.clone())).await;
    let opened: Vec<Window> = std::mem::take(&mut *windows.0.lock().unwrap());
    for window in opened {
        window.close().await;
    }
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("the journey did not finish: {e}");
    }
}

/// The windows a journey opened, for closing afterwards.
#[derive(Clone, Default)]
pub struct Windows(std::sync::Arc<Mutex<Vec<Window>>>);

impl Windows {
    /// Opens a window for `who`; `with_windows` closes it when the journey ends.
    pub async fn open(&self, base_url: &str, who: &str, script: Script) -> Window {
        let window = Window::open(base_url, who, script).await;
        self.0.lock().unwrap().push(window.clone());
        window
    }
}
