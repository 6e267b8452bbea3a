"""The assistant's own words: what a turn *does* (refine, refer, ask, compare), in zh and en.

Query understanding reads the product side of a message (category, brands, prices,
attributes, exclusions); these lists read the conversational side it does not cover:
"cheaper", "the second one", "这两个", "is it waterproof?", and the labels used to write
catalogue fields back in either language.
"""

from __future__ import annotations

import functools
import re

CHEAPER = ("便宜一点", "便宜点", "便宜些", "更便宜", "再便宜", "便宜的", "价格低一点", "低一点",
           "实惠一点", "实惠点", "预算有限", "cheaper", "less expensive", "lower price",
           "more affordable", "budget option", "too expensive", "太贵")
PRICIER = ("贵一点", "贵点", "更贵", "高端一点", "高端点", "高端", "好一点的", "更好的",
           "pricier", "more expensive", "higher end", "high-end", "premium", "fancier",
           "better one", "too cheap")
NEWEST = ("新款", "最新", "新品", "新出", "最近", "newest", "latest", "new arrivals", "new ")
COMPARE = ("比较", "对比", "哪个", "哪款", "哪一个", "区别", "差别", "compare", "comparison",
           "which is better", "which one", "difference", " vs", "versus", "better for")
SIMILAR = ("类似", "相似", "差不多的", "同类", "similar", "like this", "like that", "alternatives")
# after "we don't sell X": asking for what the shop has in its place
INSTEAD = (*SIMILAR, "instead", "alternative", "替代", "代替", "其他", "其它", "别的", "相关", "相近",
           "related", "anything else", "what else", "what do you have", "你们有什么", "有什么")
MORE = ("还有吗", "还有别的", "还有其他", "换一批", "更多", "再来几个", "再看看", "more options",
        "show more", "any more", "anything else", "other options", "next page", "more please")
ACCEPT = ("好的", "好啊", "可以", "行", "要", "嗯", "yes", "ok", "okay", "sure", "please do",
          "go ahead", "yep")
CHEAPEST = ("最便宜", "哪个便宜", "哪个更便宜", "价格最低", "cheapest", "lowest price",
            "least expensive")
PRICIEST = ("最贵", "哪个贵", "价格最高", "most expensive", "priciest", "highest price")
GREETING = ("你好", "您好", "在吗", "帮助", "你能做什么", "怎么用", "hello", "hi", "hey", "help",
            "what can you do", "how does this work", "thanks", "thank you", "谢谢")
DISMISS = ("不喜欢", "不感兴趣", "别再推荐", "不想看", "not interested", "don't like",
           "do not like", "hide", "don't show", "never show")
RESET = ("重新开始", "换个话题", "清空", "start over", "reset", "new search", "forget that")
RECOMMEND = ("推荐", "有什么好", "recommend", "suggest", "what's good", "what is good")
QUESTION_MARKERS = ("吗", "么", "多少", "几", "什么", "怎么样", "是否", "有没有", "?", "？",
                    "is it", "is this", "does it", "does this", "how much", "how many", "what",
                    "which", "can it", "do they", "are they", "is the", "does the")

ZH_ORDINALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
               "九": 9, "十": 10}
EN_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
               "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2,
               "3rd": 3, "4th": 4, "5th": 5}
ZH_ORDINAL_RE = re.compile(r"第\s*([一二三四五六七八九十]|\d{1,2})\s*(?:个|款|件|台|部|项|条|双)?")
EN_ORDINAL_RE = re.compile(r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|"
                           r"tenth|1st|2nd|3rd|4th|5th)\b|(?:#|number |no\. ?)(\d{1,2})\b", re.I)
LAST_RE = re.compile(r"最后一[个款件台部]|\bthe last one\b|\blast one\b", re.I)
FIRST_TWO_RE = re.compile(r"前两[个款件台部]?|\bfirst two\b|\btop two\b", re.I)
PAIR_RE = re.compile(r"这两[个款件台部]?|那两[个款件台部]?|两者|"
                     r"\bthese two\b|\bthose two\b|\bboth\b|\bthe two\b", re.I)
THIS_RE = re.compile(r"这款|这个|这台|这部|这件|这双|它|该商品|\bit\b|\bthis one\b|\bthat one\b|"
                     r"\bthis\b|\bthat\b", re.I)
# "有没有防水的" / "any waterproof ones?": asks whether such products exist (a filter), not
# about the items shown.
EXISTS_RE = re.compile(r"有没有.+的|有.+的吗|有没有.+款|\bany\b.*\bones?\b|\bdo you have\b|"
                       r"\bare there\b|\bshow me\b|\bonly\b.*\bones?\b", re.I)
FLAG_FIELDS = ("attributes.waterproof", "attributes.noise_cancelling")

# Catalogue field -> words that ask for it. Attribute keys are matched as written too
# ("refresh rate" asks for `refresh_rate`).
FIELD_QUESTIONS: dict[str, tuple[str, ...]] = {
    "price": ("多少钱", "价格", "价钱", "售价", "how much", "price", "cost"),
    "available": ("有货", "有没有货", "库存", "现货", "缺货", "in stock", "available",
                  "availability", "sold out"),
    "brand": ("什么牌子", "哪个牌子", "品牌", "which brand", "what brand", "who makes"),
    "attributes.waterproof": ("防水", "waterproof", "water resistant", "water-resistant"),
    "attributes.power": ("几匹", "匹数", "多少匹", "horsepower", "hp", "power"),
    "attributes.capacity": ("容量", "内存多大", "存储", "多少g", "capacity", "storage",
                            "how big", "how many gb", "how many litres", "how many kg"),
    "attributes.colour": ("颜色", "什么色", "colour", "color"),
    "attributes.screen_size": ("屏幕", "尺寸", "几寸", "多少寸", "英寸", "screen", "inch"),
    "attributes.energy_class": ("能效", "省电", "energy"),
    "attributes.noise_cancelling": ("降噪", "noise cancel", "anc"),
    "attributes.size": ("尺码", "几码", "什么码", "size"),
    "attributes.material": ("材质", "面料", "material", "fabric", "made of"),
    "attributes.refresh_rate": ("刷新率", "refresh"),
    "attributes.resolution": ("分辨率", "resolution", "4k"),
    "attributes.doors": ("几门", "门型", "doors"),
    "attributes.type": ("类型", "什么类型", "type", "what kind"),
    "attributes.model": ("型号", "model number"),
    "attributes.weight": ("重量", "净含量", "多重", "weight", "how heavy"),
    "attributes.volume": ("多少毫升", "毫升", "volume", "ml"),
    "attributes.network": ("网络", "5g", "network"),
    "attributes.gender": ("男款", "女款", "男的", "女的", "men's or women's", "gender"),
    "attributes.memory": ("运行内存", "ram", "memory"),
    "attributes.age_group": ("年龄", "几岁", "age"),
    "attributes.stage": ("几段", "段数", "哪一段", "stage"),
    "attributes.skin_type": ("肤质", "skin type"),
    "attributes.hair_type": ("发质", "hair type"),
    "attributes.flavour": ("口味", "味道", "flavour", "flavor", "taste"),
    "attributes.origin": ("产地", "哪里产", "origin", "where is it from"),
    "description": ("介绍", "详情", "描述", "tell me more", "details", "describe"),
}

# Topics a shopper may ask about that a catalogue often lacks: the answer then says so
# (quoting a description sentence that mentions the topic, if there is one).
OPEN_TOPICS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "camera": (("拍照", "相机", "摄像", "像素", "影像", "夜景", "camera", "photo", "picture quality",
                "megapixel"), "拍照/相机参数", "camera specs"),
    "battery": (("电池", "续航", "快充", "battery", "charge", "charging"), "电池/续航参数",
                "battery specs"),
    "warranty": (("保修", "质保", "售后", "warranty", "guarantee"), "保修信息", "warranty details"),
    "noise": (("噪音", "静音", "声音大", "noise level", "quiet", "loud"), "噪音参数",
              "noise levels"),
    "delivery": (("发货", "快递", "配送", "送货", "delivery", "shipping", "ship"), "配送信息",
                 "delivery details"),
    "performance": (("性能", "处理器", "芯片", "跑分", "流畅", "performance", "processor", "chip",
                     "cpu", "speed"), "性能/处理器参数", "performance or processor specs"),
}

# How fields read in replies, (zh, en).
LABELS: dict[str, tuple[str, str]] = {
    "price": ("价格", "price"), "available": ("库存", "availability"), "brand": ("品牌", "brand"),
    "category": ("类目", "category"), "title": ("商品", "product"),
    "description": ("描述", "description"),
    "colour": ("颜色", "colour"), "size": ("尺码", "size"), "capacity": ("容量", "capacity"),
    "power": ("匹数", "power"), "energy_class": ("能效等级", "energy class"),
    "material": ("材质", "material"), "gender": ("适用人群", "for"),
    "age_group": ("适用年龄", "age group"), "flavour": ("口味", "flavour"),
    "weight": ("净含量", "net weight"), "volume": ("容量", "volume"),
    "screen_size": ("屏幕尺寸", "screen size"), "type": ("类型", "type"),
    "memory": ("内存", "memory"), "storage": ("存储", "storage"),
    "noise_cancelling": ("主动降噪", "noise cancelling"), "connection": ("连接方式", "connection"),
    "resolution": ("分辨率", "resolution"), "skin_type": ("适合肤质", "skin type"),
    "hair_type": ("适用发质", "hair type"), "doors": ("门型", "door style"),
    "fill": ("填充物", "filling"), "thickness": ("厚度", "thickness"),
    "persons": ("适用人数", "sleeps"), "bed_size": ("适用床尺寸", "bed size"),
    "temperature": ("适用温度", "comfort temperature"), "refresh_rate": ("刷新率", "refresh rate"),
    "stage": ("段数", "stage"), "pieces": ("颗粒数", "pieces"), "origin": ("产地", "origin"),
    "waterproof": ("防水", "waterproof"), "model": ("型号", "model"), "network": ("网络", "network"),
    "fits": ("适用机型", "fits"), "finish": ("质地", "finish"),
}
# Attribute keys that are bookkeeping, not product facts a shopper asks about.
HIDDEN_ATTRIBUTES = frozenset({"consumable"})


def label(field: str, language: str) -> str:
    """`attributes.screen_size` -> 屏幕尺寸 / screen size."""
    key = field.removeprefix("attributes.")
    zh, en = LABELS.get(key, (key.replace("_", " "), key.replace("_", " ")))
    return zh if language == "zh" else en


@functools.lru_cache(maxsize=65_536)
def pattern(regex: str, flags: int = 0) -> re.Pattern[str]:
    """A compiled regex, cached beyond `re`'s own 512 entries (the checker and the turn
    reader build one per word, brand and attribute value)."""
    return re.compile(regex, flags)


def has_any(text: str, words: tuple[str, ...]) -> bool:
    """True when one of `words` occurs; Latin words must start at a word boundary
    ("age" does not match "stage"; "noise cancel" matches "noise cancelling")."""
    low = f" {text.lower()} "
    for word in words:
        w = word.lower()
        if not w.strip().isascii():
            if w in low:
                return True
        elif pattern(rf"(?<![a-z0-9]){re.escape(w.strip())}").search(low):
            return True
    return False

# "do you sell X?" / "有X吗": the X a shopper asks the shop to carry.
SELL_RES = (
    re.compile(r"^(?:请问)?(?:你们|您们|本店|店里|这里|你这)?(?:店里?)?(?:有没有|有没有卖|有卖|卖不卖|有|卖)"
               r"(?P<x>[^，,。？?！!]{1,20}?)(?:卖)?(?:吗|么|嘛|没有|不)?[？?。!！]*$"),
    re.compile(r"^(?:请问)?(?:你们|本店|店里)(?:卖|有)(?P<x>[^，,。？?！!]{1,20}?)(?:吗|么|嘛)?[？?。!！]*$"),
    re.compile(r"\b(?:do|does)\s+(?:you|your shop|this shop|the shop|you guys)\s+(?:sell|have|"
               r"carry|stock|offer)\s+(?:any\s+)?(?P<x>[a-z][a-z \-']{1,40}?)\s*(?:here|at all)?"
               r"\s*[?.!]*$", re.I),
    re.compile(r"\b(?:is there|are there)\s+(?:any|a|an)\s+(?P<x>[a-z][a-z \-']{1,40}?)\s*"
               r"(?:for sale|here|in (?:the|your) (?:shop|store))?\s*[?.!]*$", re.I),
    re.compile(r"\bcan i (?:buy|get|find)\s+(?:a |an |any |some )?(?P<x>[a-z][a-z \-']{1,40}?)"
               r"\s*(?:here|from you)?\s*[?.!]*$", re.I),
)


def sold_subject(text: str) -> str:
    """X of "do you sell X?" ("" when the message does not ask that)."""
    for pattern in SELL_RES:
        m = pattern.search(text.strip())
        if m:
            subject = m.group("x").strip(" 的'-")
            if subject.lower() not in ("it", "this", "that", "them", "one", "any", "货", "现货"):
                return subject
    return ""
