"""``report.html``: one self-contained page per run (charts embedded, CSS inline, nothing loaded
from elsewhere), read back with html.parser and, where Chromium is installed, rendered by it."""

import base64
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from tests.runs import SPIRALS
from trainctl.training import train
from trainctl.training.html_report import plot_files, write_html_report


class Page(HTMLParser):
    """Every tag with its attributes, the text of each <pre>, <title> and <h1>, and table rows."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.text, self.open, self.rows = [], {}, [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "tr":
            self.rows.append((dict(attrs).get("class"), []))
        self.open.append(tag)

    def handle_endtag(self, tag):
        if self.open and self.open[-1] == tag:
            self.open.pop()

    def handle_data(self, data):
        for tag in set(self.open):  # the text of a tag includes that of the tags inside it
            self.text.setdefault(tag, []).append(data)
        if self.open and self.open[-1] in ("td", "th") and self.rows:
            self.rows[-1][1].append(data)

    def joined(self, tag):
        return "".join(self.text.get(tag, []))


def quiet(message, err=False):
    pass


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    (folder / "cfg.yaml").write_text(SPIRALS + "plots: {format: png}\n")
    summary = train(folder / "cfg.yaml", run_dir=folder / "run", quiet=True, echo=quiet)
    return folder / "run", summary


def test_the_report_is_self_contained_and_holds_the_run(finished):
    run, summary = finished
    text = (run / "report.html").read_text()
    page = Page(text)
    assert page.joined("title").startswith("tiny_spirals")
    assert "completed" in page.joined("h1")

    # Every chart of the run directory, embedded byte for byte.
    images = [attrs["src"] for tag, attrs in page.tags if tag == "img"]
    charts = plot_files(run)
    assert {p.name for p in charts} >= {"loss.png", "lr.png", "accuracy.png"}
    assert charts[0].name == "loss.png" and charts[-1].name == "lr.png"
    assert len(images) == len(charts)
    for path, src in zip(charts, images):
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        assert base64.b64decode(src[len(prefix):]) == path.read_bytes()

    # Nothing is loaded from elsewhere: no script, stylesheet link, frame or remote URL.
    assert not {tag for tag, _ in page.tags} & {"script", "link", "iframe", "object", "embed"}
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not (value or "").lower().startswith(("http:", "https:", "//")), (tag, name)
            if name in ("src", "href"):
                assert value.startswith("data:"), (tag, name)
    assert "http://" not in text and "https://" not in text

    assert page.joined("pre") == (run / "config.yaml").read_text()  # the config, verbatim
    epochs = [cells for cls, cells in page.rows if cells and cells[0].isdigit()]
    assert [int(cells[0]) for cells in epochs] == [1, 2, 3, 4]
    best = [cells for cls, cells in page.rows if cls == "best"]
    assert len(best) == 1 and int(best[0][0]) == summary["best_epoch"]
    cells = "".join(page.text.get("td", []))
    for name, version in summary["versions"].items():
        assert name in cells and version in cells
    assert f"{summary['final']['val/accuracy']:.6g}" in cells


def test_text_from_the_config_is_escaped(tmp_path, write_config):
    text = SPIRALS.replace("name: tiny_spirals", "name: 'a<b>&c <script>x</script>'")
    train(write_config(text), run_dir=tmp_path / "r", quiet=True, echo=quiet)
    page = Page((tmp_path / "r" / "report.html").read_text())
    assert "script" not in {tag for tag, _ in page.tags} and "b" not in {t for t, _ in page.tags}
    assert page.joined("title").startswith("a<b>&c <script>x</script>")
    assert "a<b>&c <script>x</script>" in page.joined("pre")


def test_a_failed_run_has_a_report_with_its_error(tmp_path, write_config):
    text = SPIRALS.replace("optimizer: {type: Adam, lr: 0.01}", "optimizer: {type: SGD, lr: 1e30}")
    with pytest.raises(Exception, match="the loss became"):
        train(write_config(text), run_dir=tmp_path / "r", quiet=True, echo=quiet)
    page = Page((tmp_path / "r" / "report.html").read_text())
    assert "failed" in page.joined("h1") and "the loss became" in page.joined("p")


def test_a_report_can_be_written_again_from_the_files(finished):
    run, _ = finished
    before = (run / "report.html").read_bytes()
    assert write_html_report(run) == run / "report.html"  # summary.json read from the folder
    assert (run / "report.html").read_bytes() == before


CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome",
                                           "google-chrome-stable") if shutil.which(n)), None)


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium to render the page")
def test_chromium_renders_the_report(finished, tmp_path):
    """Headless Chromium, cut off from any network, draws the page: a screenshot of the right
    size with the charts in it (many colours, not a blank or error page)."""
    from PIL import Image

    run, _ = finished
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
                    "--proxy-server=127.0.0.1:9", "--window-size=1200,1800",
                    f"--screenshot={shot}", (run / "report.html").as_uri()],
                   capture_output=True, timeout=120, check=True)
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 1800)
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 500  # anti-aliased charts and text; a blank page has one colour
    green = sum(n for n, (r, g, b) in colours if (r, g, b) == (0x1a, 0x7f, 0x37))
    assert green > 100  # the "completed" badge
