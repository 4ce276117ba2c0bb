from rag.ingest.clean import (
    drop_repeated_paragraphs,
    html_to_paragraphs,
    normalize_spaces,
    text_to_paragraphs,
)


def test_inline_link_and_font_text_stay_in_their_sentence():
    html = (
        '<p>　　采取<span><a href="https://x">线上线下</a></span><span></span>结合的方式进行。</p>'
        '<p>肖<font cms-style="font-L">亚庆强调，</font><font>我们</font>一贯倡导</p>'
    )
    assert html_to_paragraphs(html) == ["采取线上线下结合的方式进行。", "肖亚庆强调，我们一贯倡导"]


def test_style_script_and_comments_are_dropped():
    html = "<style>.a{color:red}</style><!-- 文末二维码 start --><p>正文</p><script>alert(1)</script>"
    assert html_to_paragraphs(html) == ["正文"]


def test_promotional_block_and_editor_line_are_dropped():
    html = (
        '<p>正文一段。</p><div class="appendQr_normal_txt">海量资讯、精准解读，尽在新浪财经APP</div>'
        '<p class="article-editor">责任编辑：王蒙 </p><p>编辑 刘佳妮</p>'
    )
    assert html_to_paragraphs(html) == ["正文一段。"]


def test_entities_are_decoded():
    assert html_to_paragraphs("<p>A&amp;B &ldquo;数字&rdquo; &#20013;</p>") == ["A&B “数字” 中"]


def test_image_caption_is_kept():
    html = (
        '<div class="img_wrapper"><img src="x.jpg"><span class="img_descr"></span>'
        " 八月二十三日，论坛开幕。记者 苏思 摄</div>"
    )
    assert html_to_paragraphs(html) == ["八月二十三日，论坛开幕。记者 苏思 摄"]


def test_full_width_leading_spaces_are_stripped():
    assert normalize_spaces("\u3000\u3000　8月5日，会议举行。 ") == "8月5日，会议举行。"


def test_page_junk_lines_are_dropped():
    assert text_to_paragraphs("正文\n我要收藏\n个赞\n12个赞\n评论排行\n") == ["正文"]


def test_repeated_paragraphs_keep_first_occurrence():
    assert drop_repeated_paragraphs(["甲", "乙", "丙", "乙", "丙"]) == ["甲", "乙", "丙"]
