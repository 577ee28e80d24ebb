"""The app in Chinese in a real browser: a teacher's `lang=zh` link opens every page in Chinese, a
lesson runs through (train, draw, label, compare, class page), and a Chinese browser gets Chinese
without asking. Screenshots of each page go to artifacts/zh_*.png (copied to docs/ for the README by hand:
a test run never changes the checkout)."""

import re

import pytest

from tests.support import ARTIFACTS, absolute, fill_collection, mouse_stroke, served_app, shown_answer

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 900}
ONE = [(0.5, 0.12), (0.5, 0.88)]  # a vertical stroke: a "1"


@pytest.fixture(scope="module")
def zh_server(tmp_path_factory, mnist):
    """A server with its own data folder, its collection already holding some of a class's drawings."""
    data_dir = tmp_path_factory.mktemp("zh-data")
    fill_collection(data_dir, mnist, writers=3, per_writer=10)
    with served_app({"KERASWAYS_DATA_DIR": str(data_dir)}) as url:
        yield url


def shoot(page, name: str) -> None:
    """The visible part of the page (not the whole page: the README shows what a visitor sees first)."""
    page.wait_for_timeout(1200)  # let the last element and its fonts settle
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"zh_{name}.png"))


def test_a_lang_zh_link_runs_a_whole_lesson_in_chinese(zh_server, browser):
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")  # the link, not the browser, decides
    page = context.new_page()
    page.goto(zh_server + "/?lang=zh&epochs=2&digits=2000")
    page.get_by_text("构建 Keras 模型的三种方式").first.wait_for(timeout=60_000)
    page.get_by_text("代码 · 顺序 API").first.wait_for(timeout=30_000)
    page.get_by_text("# ", exact=False).first.wait_for(timeout=30_000)
    assert re.search(r"#[^\n]*[\u4e00-\u9fff]", page.locator("code").first.inner_text())  # comments in Chinese
    shoot(page, "build")

    page.get_by_role("link", name="2 · 训练").click()
    page.get_by_role("button", name=re.compile("开始训练")).click(timeout=60_000)
    page.get_by_text("测试准确率").first.wait_for(timeout=180_000)
    page.get_by_text(re.compile("训练了 2 轮|已训练 2 轮|2 轮")).first.wait_for(timeout=30_000)
    assert "lang=zh" in page.url
    shoot(page, "train")

    page.get_by_role("link", name="3 · 手写数字").click()
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(timeout=60_000)
    page.get_by_text("在黑色方块上写一个数字").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    mouse_stroke(page, absolute(canvas.bounding_box(), ONE))
    shown_answer(page).wait_for(timeout=30_000)
    assert "模型识别为" in shown_answer(page).inner_text()
    page.get_by_text("这是哪个数字？").first.wait_for(timeout=30_000)
    page.get_by_text("网络看到的样子").first.wait_for(timeout=30_000)
    shoot(page, "draw")
    page.get_by_role("button", name="1", exact=True).click()
    page.get_by_text(re.compile("已作为 1 保存到班级数据集")).first.wait_for(timeout=30_000)

    page.get_by_role("link", name="4 · 比较三种方式").click()
    page.get_by_text("哪种方式适合什么场景？").first.wait_for(timeout=60_000)
    page.get_by_role("button", name="三种方式一起训练").click(timeout=30_000)
    verdict = page.get_by_text(re.compile("相同随机种子（\\d+）→ 完全相同")).first
    verdict.wait_for(timeout=240_000)
    verdict.scroll_into_view_if_needed()  # the curves, the results table and the verdict
    shoot(page, "compare")

    page.get_by_role("link", name="5 · 我们班的数字").click()
    page.get_by_text("每位书写者的手写数量").first.wait_for(timeout=60_000)
    # the drawing just labelled counts (the table draws on a canvas: its cells are there, not visible)
    page.get_by_text("书写者 4（你）").first.wait_for(state="attached", timeout=30_000)
    shoot(page, "class")

    page.get_by_role("radio", name="English").or_(page.get_by_role("button", name="English")).first.click()
    page.get_by_text("Our class's digits").first.wait_for(timeout=30_000)
    page.wait_for_function("() => location.search.includes('lang=en')", timeout=30_000)
    context.close()


def test_a_chinese_browser_opens_in_chinese_without_a_lang_in_the_link(app_url, browser):
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = context.new_page()
    page.goto(app_url + "/")
    page.get_by_text("构建 Keras 模型的三种方式").first.wait_for(timeout=60_000)
    page.wait_for_function("() => location.search.includes('lang=zh')", timeout=30_000)  # the link then says so
    context.close()
