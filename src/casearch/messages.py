"""The web page's words in each interface language (``?ui=ja|en``).

Templates read them as ``t.<key>``; ``{name}`` placeholders are filled with
``str.format``. Both languages must have the same keys (a test checks). A key ending in
``_one`` is the singular of the key without it (``plural``): Japanese has one form, so its
``_one`` text is the same as the other.
"""

from __future__ import annotations

UI_LANGS = ("ja", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "tagline": "Japanese and English document search",
        "skip": "Skip to results",
        "search": "Search", "query_label": "Search words",
        "placeholder": "e.g. パイプライン, 中国の鉄道 or pipeline",
        "all": "All", "ja": "日本語", "en": "English",
        "lang_filter": "Language", "lang_filter_label": "Filter by language", "sort_label": "Order",
        "sort_relevance": "Best match", "sort_date": "Newest first",
        "results_heading": "Results for “{q}”",
        "results": "{total} passages ({ms} ms)", "results_one": "{total} passage ({ms} ms)",
        "showing": "Showing {first}–{last} of {total}",
        "did_you_mean": "Did you mean", "hint": "Note",
        "partial": "No passage contains every word: these passages match some of them "
                   "(more words, and rarer ones, first).",
        "no_results": "No passages match “{q}”.",
        "no_results_here": "Nothing in {lang}, but {count} passages in {other}.",
        "no_results_here_one": "Nothing in {lang}, but {count} passage in {other}.",
        "try_heading": "Things to try",
        "try_spelling": "Check the spelling, or type the word the way the documents write it (kanji, kana or English).",
        "try_fewer": "Use fewer words: every word must match.",
        "try_quotes": "Remove quotes or operators: \"…\" asks for the exact phrase, -word excludes a word.",
        "try_other_lang": "Search in the other language, or include it (Other language: Included): "
                          "without it, パイプライン and pipeline are separate words.",
        "try_other_lang_cross": "Type the word in the other language too: translations are searched, "
                                "but not every word has one.",
        "try_prefix": "End a word with * to match its beginning: pipe*",
        "past_last": "This page is past the last result.",
        "first_page": "Go to the first page",
        "prev": "Previous", "next": "Next", "first": "First",
        "page": "Page {page} of {last}", "paging": "Pages",
        "lead": "Introduction", "source": "Source",
        "error": "Error", "back": "Back to search", "back_results": "Back to results",
        "not_found": "Not found", "translations": "Also in", "contents": "Contents",
        "ui_switch": "日本語で表示", "ui_switch_label": "Interface language",
        "home_heading": "Search Japanese and English documents",
        "home_intro": "Type words in Japanese or English. Matches are marked in each passage; "
                      "open a result to read the whole document with the words highlighted.",
        "examples": "Examples",
        "syntax_heading": "Query syntax",
        "syntax_and": "Words separated by spaces must all match.",
        "syntax_phrase": "\"quoted words\" match as a phrase.",
        "syntax_or": "A OR B matches either; -word or NOT word excludes.",
        "syntax_field": "title:, section: and body: search one part; pipe* matches a prefix.",
        "footer_api": "JSON API (OpenAPI)", "footer_opensearch": "OpenSearch",
        "doc_language": "Document language", "translated_from": "Translation of",
        "matched": "Matched", "via_surface": "as written", "via_base": "other form", "via_reading": "reading",
        "via_gloss": "loanword gloss", "via_dictionary": "dictionary", "via_corpus": "defined in the corpus",
        "via_glossary": "glossary", "via_translation": "translation", "via_mined": "learned from translations",
        "via_transliteration": "same sound", "via_synonym": "synonym",
        "field_body": "in the text", "field_reading": "by reading", "field_ngram": "by characters",
        "field_heading": "in the heading", "field_title": "in the title",
        "counterpart": "In the other language", "cross_label": "Other language",
        "cross_on": "Included", "cross_off": "Off", "parallel": "Side by side with the translation",
        "single": "This language only",
        "doc_paged": "A long document, shown in pages: page {page} of {last}.",
        "doc_pages": "Pages of this document", "page_n": "page {page}", "continued": "(continued)",
    },
    "ja": {
        "tagline": "日本語と英語の文書検索",
        "skip": "検索結果へ移動",
        "search": "検索", "query_label": "検索語",
        "placeholder": "例: パイプライン、中国の鉄道、pipeline",
        "all": "すべて", "ja": "日本語", "en": "English",
        "lang_filter": "言語", "lang_filter_label": "言語で絞り込む", "sort_label": "並べ替え",
        "sort_relevance": "関連度順", "sort_date": "新しい順",
        "results_heading": "「{q}」の検索結果",
        "results": "{total} 件（{ms} ミリ秒）", "results_one": "{total} 件（{ms} ミリ秒）",
        "showing": "{total} 件中 {first}–{last} 件目",
        "did_you_mean": "もしかして", "hint": "注意",
        "partial": "すべての語を含む箇所がないため、一部の語に一致する箇所を表示しています"
                   "（一致する語が多いもの、珍しい語を含むものが先）。",
        "no_results": "「{q}」に一致する箇所はありません。",
        "no_results_here": "{lang}では見つかりませんでしたが、{other}に {count} 箇所あります。",
        "no_results_here_one": "{lang}では見つかりませんでしたが、{other}に {count} 箇所あります。",
        "try_heading": "試してみること",
        "try_spelling": "表記を確かめる。文書と同じ書き方（漢字・かな・英語）で入力してください。",
        "try_fewer": "語を減らす。すべての語が一致する箇所だけを表示します。",
        "try_quotes": "引用符や演算子を外す。\"…\" は語順どおりの一致、-語 はその語を除外します。",
        "try_other_lang": "もう一方の言語で探すか、「他言語: 含める」にする。含めないと パイプライン と pipeline は別の語です。",
        "try_other_lang_cross": "もう一方の言語の語でも探す。訳語も検索しますが、すべての語に訳語があるわけではありません。",
        "try_prefix": "語の末尾に * を付けると前方一致になります: パイプ*",
        "past_last": "このページは最後の結果より後ろです。",
        "first_page": "最初のページへ",
        "prev": "前へ", "next": "次へ", "first": "最初",
        "page": "{page} / {last} ページ", "paging": "ページ",
        "lead": "はじめに", "source": "出典",
        "error": "エラー", "back": "検索に戻る", "back_results": "検索結果に戻る",
        "not_found": "見つかりません", "translations": "他の言語", "contents": "目次",
        "ui_switch": "English", "ui_switch_label": "表示言語",
        "home_heading": "日本語と英語の文書を検索",
        "home_intro": "日本語または英語で語を入力してください。一致した箇所に印が付きます。"
                      "結果を開くと、検索語を強調した文書全体を読めます。",
        "examples": "例",
        "syntax_heading": "検索式",
        "syntax_and": "空白で区切った語は、すべてが一致する箇所を探します。",
        "syntax_phrase": "\"引用符で囲んだ語\" は語順どおりに一致します。",
        "syntax_or": "A OR B はどちらか一方、-語 または NOT 語 はその語を除外します。",
        "syntax_field": "title:、section:、body: で探す部分を指定、パイプ* で前方一致。",
        "footer_api": "JSON API (OpenAPI)", "footer_opensearch": "OpenSearch",
        "doc_language": "文書の言語", "translated_from": "この訳の原文",
        "matched": "一致", "via_surface": "表記", "via_base": "活用・異表記", "via_reading": "読み",
        "via_gloss": "外来語の原語", "via_dictionary": "辞書", "via_corpus": "文書中の対訳",
        "via_glossary": "用語集", "via_translation": "翻訳", "via_mined": "対訳から学習",
        "via_transliteration": "同じ音", "via_synonym": "同義語",
        "field_body": "本文", "field_reading": "読み", "field_ngram": "文字列", "field_heading": "見出し",
        "field_title": "タイトル",
        "counterpart": "もう一方の言語", "cross_label": "他言語",
        "cross_on": "含める", "cross_off": "含めない", "parallel": "翻訳と並べて表示",
        "single": "この言語のみ",
        "doc_paged": "長い文書のため、ページに分けて表示しています: {page} / {last} ページ。",
        "doc_pages": "この文書のページ", "page_n": "{page} ページ", "continued": "（続き）",
    },
}

EXAMPLES = ("パイプライン", "天然ガス", "中国の鉄道", "pipeline", "railway OR pipeline")


def messages(ui: str) -> dict[str, str]:
    return MESSAGES[ui if ui in MESSAGES else "en"]


def plural(t: dict[str, str], key: str, count: int) -> str:
    """The text of ``key`` for ``count``: its ``_one`` form for exactly one.

    >>> plural(MESSAGES["en"], "results", 1).format(total=1, ms=2)
    '1 passage (2 ms)'
    >>> plural(MESSAGES["en"], "results", 0).format(total=0, ms=2)
    '0 passages (2 ms)'
    """
    return t.get(f"{key}_one", t[key]) if count == 1 else t[key]
