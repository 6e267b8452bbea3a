"""A third bilingual suite: look-alike absent types and other words for sold types.

The first two suites ask each leaf with the catalogue's own product words. Shoppers also ask
for things the shop does not sell with words that *look like* a sold type (洗碗机 next to
洗衣机, 鼠标垫 next to 鼠标, dishwasher next to washer, mouse pad next to mouse), and for sold
types with words the catalogue seldom or never writes (cell phone, television,
earphones, moisturiser, 手机套, 羽绒衣). Properties:
- `absent_lookalike`: judged as `absent_type` (a `no_exact_match` answer, no category filter);
- `other_word`: judged as `in_catalogue` (results, top-10 precision >= 0.9 in the leaf, no
  `no_exact_match`), plus a `parity` check against the leaf's first word in the same language:
  the other word reaches at least 80 % as many of the leaf's products in its top 100.
Written once, before the behaviour it checks was last changed, and never tuned on; a leaf
the shop holds fewer than 5 products of is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from shopsense.domain import Product
from shopsense.evaluation.relevance import Check, leaves_held

# (zh, en) product types the demo does not sell that share writing with one it does.
LOOKALIKES = (("咖啡机", "coffee maker"), ("鼠标垫", "mouse pad"), ("睡衣", "pajamas"),
              ("洗面奶", "face wash"), ("护发素", "hair conditioner"), ("运动裤", "sweatpants"),
              ("电热水器", "water heater"), ("台式电脑", "desktop computer"),
              ("电风扇", "electric fan"), ("加湿器", "humidifier"), ("眼霜", "eye cream"),
              ("手机支架", "phone stand"), ("茶具", "tea set"), ("牛奶锅", "milk pan"),
              ("奶瓶", "baby bottle"), ("冰淇淋", "ice cream"), ("帐篷灯", "tent light"),
              ("电视柜", "tv stand"), ("拖鞋", "slippers"), ("显示器支架", "monitor arm"))
# leaf (last path part) -> other words for it, zh and en, that are not its product words.
OTHER_WORDS = {
    "手机": (("移动电话",), ("cell phone", "mobile phone", "cellphone")),
    "电视": (("电视机", "彩电"), ("television", "televisions")),
    "耳机": (("耳麦",), ("earphones", "earbuds", "headset")),
    "笔记本": (("手提电脑",), ("laptop computer", "notebook computer")),
    "冰箱": (("雪柜",), ("fridges", "refrigerators")),
    "洗衣机": ((), ("washers", "clothes washer")),
    "面霜": (("保湿面霜",), ("moisturiser", "face moisturizer")),
    "口红": (("唇膏笔",), ("lip color", "lip stick")),
    "纸尿裤": (("尿片",), ("nappy", "baby diapers")),
    "羽绒服": (("羽绒衣",), ("down coat", "puffer coat")),
    "运动鞋": (("球鞋",), ("running shoe", "sneaker")),
    "手机壳": (("手机套",), ("phone cover", "phone cases")),
    "空调": (("冷气机",), ("air con", "aircon")),
    "帐篷": (("野营帐篷",), ("camping tents", "tents")),
    "洗发水": (("洗头水",), ("hair wash", "shampoos")),
    "平板": (("平板电脑",), ("tablet computer", "tablets")),
}


def word_checks(products: Sequence[Product]) -> list[Check]:
    """The look-alike absent types (when no title holds them) and the other words of the
    leaves `products` hold (>= 5 products each)."""
    titles = " ".join(p.title.lower() for p in products)
    checks = [Check("absent_lookalike", lang, word) for zh, en in LOOKALIKES
              for lang, word in (("zh", zh), ("en", en)) if word.lower() not in titles]
    for _, leaf, _items in leaves_held(products, 5):
        words = OTHER_WORDS.get(leaf.path.rsplit(" > ", 1)[-1])
        if words is None:
            continue
        for lang, others, first in (("zh", words[0], leaf.words_zh[0]),
                                    ("en", words[1], leaf.words_en[0].lower())):
            for word in others:
                checks += [Check("other_word", lang, word, leaf.path),
                           Check("other_word_parity", lang, word, leaf.path, pair=first)]
    return checks
