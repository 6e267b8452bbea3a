"""What kind of turn is this? Nine intents, zh + en, each with a confidence.

product_search / refinement / reference / comparison / product_question come from the turn
reader's act (query understanding + references); shop_policy / order_account / chit_chat /
out_of_scope are read here first, from words (a message may name a policy subject and a
product: "这款保修多久" is a policy question about the focused item). A turn that is not about
products never returns a product list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shopsense.assistant.lexicon import pattern

INTENTS = ("product_search", "refinement", "reference", "comparison", "product_question",
           "shop_policy", "order_account", "chit_chat", "out_of_scope")
POLICY = ("退货", "退款", "换货", "退换", "发货", "配送", "运费", "包邮", "邮费", "快递费", "送货",
          "几天到", "多久到", "多久能到", "支付", "付款", "花呗", "分期", "货到付款", "发票", "保修",
          "质保", "售后", "营业时间", "几点", "客服", "人工", "联系你们", "客服电话", "联系电话", "电话多少", "邮箱", "门店",
          "实体店", "线下店", "积分", "会员", "价格保护", "差价", "能换吗", "换尺码", "尺码不合适", "上门安装", "包安装", "安装服务", "礼品包装", "return", "refund", "exchange",
          "shipping", "ship", "delivery", "deliver", "postage", "payment", "pay", "paypal", "alipay", "wechat pay", "cash on delivery", "instalment",
          "installment", "invoice", "receipt", "warranty", "guarantee", "opening hours",
          "store hours", "business hours", "open on", "customer service", "contact you",
          "phone number", "email address", "physical store", "shop in person", "membership",
          "loyalty", "points", "gift wrap", "gift wrapping", "installation", "price protection", "price match", "price drop")
ORDER = ("我的订单", "订单状态", "查订单", "订单到哪", "物流", "快递到哪", "查快递", "我的快递",
         "取消订单", "修改订单", "改地址", "修改地址", "收货地址", "我的账号", "账户", "密码",
         "登录不了", "登不上", "我的包裹", "退款进度", "where is my order", "my order",
         "track my", "tracking number", "cancel my order", "order status", "my account",
         "password", "log in", "login", "sign in", "my package", "my parcel",
         "change my address", "delivery address", "shipping address", "my refund")
CHITCHAT = ("你好", "您好", "在吗", "谢谢", "多谢", "再见", "拜拜", "你是谁", "你叫什么", "你是机器人",
            "早上好", "晚上好", "哈哈", "hello", "hi", "hey", "thanks", "thank you", "bye",
            "goodbye", "who are you", "how are you", "are you a bot", "good morning",
            "good evening", "what can you do", "help", "帮助", "你能做什么", "怎么用")
OUT_OF_SCOPE = ("天气", "新闻", "股票", "股价", "笑话", "写一首诗", "写首诗", "作文", "翻译", "首都",
                "总统", "比赛结果", "彩票", "菜谱", "怎么做菜", "历史上", "weather", "news",
                "stock price", "stock market", "joke", "poem", "translate", "capital of",
                "president", "who won", "recipe", "homework", "lottery", "movie", "football",
                "電影", "电影", "足球")
# What a product act maps to.
ACT_INTENT = {"search": "product_search", "recommend": "product_search", "more": "refinement",
              "accept": "refinement", "dismiss": "refinement", "select": "reference",
              "similar": "reference", "compare": "comparison", "question": "product_question",
              "reset": "chit_chat", "help": "chit_chat", "absent": "product_search",
              "policy": "shop_policy", "order": "order_account", "chitchat": "chit_chat",
              "out_of_scope": "out_of_scope"}
WORD_RE = re.compile(r"[a-z]+|[\u4e00-\u9fff]")


@dataclass(frozen=True, slots=True)
class Intent:
    name: str
    confidence: float
    cues: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "confidence": round(self.confidence, 2),
                "cues": list(self.cues)}


def cues(text: str, words: tuple[str, ...]) -> tuple[str, ...]:
    """The words of `words` in `text`; a Latin word matches whole, or with a plural / verb
    ending ("returns", "refunded"), never inside another word ("hi" is not in "high")."""
    low = text.lower()
    found = []
    for word in words:
        w = word.strip().lower()
        if not w.isascii():
            hit = w in low
        else:
            hit = pattern(rf"(?<![a-z0-9]){re.escape(w)}(?:s|es|ed|ing)?(?![a-z])").search(low)
        if hit:
            found.append(w)
    return tuple(dict.fromkeys(found))


def _size(text: str) -> int:
    """Words (Latin) plus characters (Chinese): how much a message says."""
    return len(WORD_RE.findall(text.lower()))


def service_intent(text: str, *, product_signals: bool) -> Intent | None:
    """shop_policy / order_account / chit_chat / out_of_scope when the words say so; None for
    a product turn. `product_signals`: the message names a product type, brand, attribute,
    price or an item shown (chit-chat words then do not decide; policy words still do)."""
    found = {name: cues(text, words) for name, words in (
        ("order_account", ORDER), ("shop_policy", POLICY), ("out_of_scope", OUT_OF_SCOPE))}
    for name in ("order_account", "shop_policy", "out_of_scope"):
        hits = found[name]
        if hits and not (name == "out_of_scope" and product_signals):
            return Intent(name, min(0.97, 0.7 + 0.1 * len(hits)), hits)
    chat = cues(text, CHITCHAT)
    if chat and not product_signals and _size(text) <= 3 * len(chat) + 6:
        return Intent("chit_chat", min(0.95, 0.65 + 0.1 * len(chat)), chat)
    return None


def act_intent(act: str, refinement: bool, confidence: float) -> Intent:
    """The intent of a product act; a search that changes the standing wishes of an earlier
    turn is a refinement."""
    name = ACT_INTENT.get(act, "product_search")
    if name == "product_search" and refinement:
        name = "refinement"
    return Intent(name, confidence, (act,))
