"""Brands of the demo shop: Chinese name, English name, and the tag JD/Taobao titles bracket.

A Chinese title writes a brand as ``格力(GREE)`` or just ``格力``; an English title writes
``Gree``. The `brand` field of a listing holds the name in the listing's language, so the two
forms of one brand are linked only through titles that carry both.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Brand:
    key: str
    zh: str
    en: str
    tag: str  # how a Chinese title brackets it: 格力(GREE); equal to zh for latin-only brands

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def bracket_forms(self) -> tuple[str, ...]:
        """How Chinese titles may bracket the brand: its tag, and the English name when the
        tag alone would not reveal it (小米(MI) and 小米(Xiaomi))."""
        if _fold(self.tag) == _fold(self.en):
            return (self.tag,)
        return (self.tag, self.en)

    def aliases(self) -> tuple[str, ...]:
        """Every catalogue `brand` value naming this brand (zh first)."""
        return (self.zh,) if self.zh == self.en else (self.zh, self.en)


def _fold(name: str) -> str:
    """`"L'Oréal"` -> `"loreal"`: case, accents, spaces and punctuation removed."""
    plain = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in plain.casefold() if ch.isalnum())


def _b(key: str, zh: str, en: str, tag: str | None = None) -> Brand:
    return Brand(key, zh, en, tag or en)


_ALL = [
    _b("gree", "格力", "Gree", "GREE"), _b("midea", "美的", "Midea"), _b("haier", "海尔", "Haier"),
    _b("aux", "奥克斯", "AUX"), _b("hisense", "海信", "Hisense"), _b("daikin", "大金", "Daikin", "DAIKIN"),
    _b("tcl", "TCL", "TCL"), _b("siemens", "西门子", "Siemens", "SIEMENS"),
    _b("ronshen", "容声", "Ronshen"), _b("casarte", "卡萨帝", "Casarte"),
    _b("littleswan", "小天鹅", "Little Swan", "LittleSwan"), _b("panasonic", "松下", "Panasonic"),
    _b("sony", "索尼", "Sony", "SONY"), _b("skyworth", "创维", "Skyworth"),
    _b("huawei", "华为", "Huawei", "HUAWEI"), _b("xiaomi", "小米", "Xiaomi", "MI"),
    _b("apple", "苹果", "Apple"), _b("oppo", "OPPO", "OPPO"), _b("vivo", "vivo", "vivo"),
    _b("honor", "荣耀", "Honor", "HONOR"), _b("redmi", "红米", "Redmi"),
    _b("oneplus", "一加", "OnePlus"), _b("edifier", "漫步者", "Edifier", "EDIFIER"),
    _b("sennheiser", "森海塞尔", "Sennheiser"), _b("bose", "Bose", "Bose"),
    _b("lenovo", "联想", "Lenovo"), _b("garmin", "佳明", "Garmin", "GARMIN"),
    _b("baseus", "倍思", "Baseus"), _b("ugreen", "绿联", "UGREEN"), _b("torras", "图拉斯", "TORRAS"),
    _b("dell", "戴尔", "Dell", "DELL"), _b("asus", "华硕", "ASUS"), _b("hp", "惠普", "HP"),
    _b("samsung", "三星", "Samsung", "SAMSUNG"), _b("aoc", "AOC", "AOC"), _b("lg", "LG", "LG"),
    _b("philips", "飞利浦", "Philips", "PHILIPS"), _b("logitech", "罗技", "Logitech", "Logitech"),
    _b("razer", "雷蛇", "Razer"),
    _b("uniqlo", "优衣库", "Uniqlo", "UNIQLO"), _b("lining", "李宁", "Li-Ning", "LI-NING"),
    _b("nike", "耐克", "Nike", "NIKE"), _b("adidas", "阿迪达斯", "Adidas", "adidas"),
    _b("hla", "海澜之家", "HLA"), _b("semir", "森马", "Semir"), _b("ur", "UR", "UR"),
    _b("peacebird", "太平鸟", "Peacebird", "PEACEBIRD"), _b("bosideng", "波司登", "Bosideng", "BOSIDENG"),
    _b("canadagoose", "加拿大鹅", "Canada Goose"), _b("anta", "安踏", "Anta", "ANTA"),
    _b("xtep", "特步", "Xtep", "XTEP"), _b("newbalance", "新百伦", "New Balance", "NB"),
    _b("timberland", "添柏岚", "Timberland"), _b("drmartens", "马丁博士", "Dr. Martens"),
    _b("camel", "骆驼", "Camel", "CAMEL"), _b("columbia", "哥伦比亚", "Columbia"),
    _b("lancome", "兰蔻", "Lancôme", "LANCOME"), _b("esteelauder", "雅诗兰黛", "Estée Lauder"),
    _b("loreal", "欧莱雅", "L'Oréal", "L'OREAL"), _b("pechoin", "百雀羚", "Pechoin"),
    _b("proya", "珀莱雅", "Proya", "PROYA"), _b("dior", "迪奥", "Dior"),
    _b("ysl", "圣罗兰", "YSL"), _b("perfectdiary", "完美日记", "Perfect Diary"),
    _b("florasis", "花西子", "Florasis"), _b("mac", "魅可", "MAC"),
    _b("headshoulders", "海飞丝", "Head & Shoulders"), _b("pantene", "潘婷", "Pantene"),
    _b("rejoice", "飘柔", "Rejoice"), _b("adolph", "阿道夫", "Adolph", "ADOLPH"),
    _b("threesquirrels", "三只松鼠", "Three Squirrels"), _b("bestore", "良品铺子", "Bestore"),
    _b("becheery", "百草味", "Be&Cheery"), _b("lays", "乐事", "Lay's"), _b("oreo", "奥利奥", "Oreo"),
    _b("nestle", "雀巢", "Nestlé", "Nestle"), _b("starbucks", "星巴克", "Starbucks"),
    _b("saturnbird", "三顿半", "Saturnbird"), _b("luckin", "瑞幸", "Luckin"),
    _b("dayi", "大益", "Dayi", "TAETEA"), _b("zhangyiyuan", "张一元", "Zhang Yiyuan"),
    _b("lipton", "立顿", "Lipton"), _b("chinatea", "中茶", "Chinatea"),
    _b("yili", "伊利", "Yili"), _b("mengniu", "蒙牛", "Mengniu"), _b("bright", "光明", "Bright Dairy"),
    _b("anchor", "安佳", "Anchor"), _b("junlebao", "君乐宝", "Junlebao"),
    _b("pampers", "帮宝适", "Pampers"), _b("huggies", "好奇", "Huggies"), _b("merries", "花王", "Merries"),
    _b("moony", "尤妮佳", "Moony"), _b("feihe", "飞鹤", "Feihe", "FIRMUS"),
    _b("meadjohnson", "美赞臣", "Mead Johnson", "MeadJohnson"), _b("wyeth", "惠氏", "Wyeth"),
    _b("aptamil", "爱他美", "Aptamil"), _b("lego", "乐高", "LEGO"), _b("bloks", "布鲁可", "Bloks"),
    _b("auldey", "奥迪双钻", "Auldey"), _b("mobigarden", "牧高笛", "Mobi Garden", "MOBIGARDEN"),
    _b("toread", "探路者", "Toread", "TOREAD"), _b("northface", "北面", "The North Face", "THE NORTH FACE"),
    _b("decathlon", "迪卡侬", "Decathlon", "DECATHLON"), _b("keep", "Keep", "Keep"),
    _b("lululemon", "lululemon", "lululemon"), _b("luolai", "罗莱", "Luolai"),
    _b("fuanna", "富安娜", "Fuanna"), _b("mercury", "水星家纺", "Mercury"), _b("muji", "无印良品", "MUJI"),
    _b("dyson", "戴森", "Dyson"), _b("ecovacs", "科沃斯", "Ecovacs"), _b("roborock", "石头", "Roborock"),
]

BRANDS: dict[str, Brand] = {b.key: b for b in _ALL}

# Model lines that make phone / laptop / tablet / watch / earphone titles look real (neutral text).
SERIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("手机", "huawei"): ("Mate 60 Pro", "Pura 70", "nova 12", "Mate X5"),
    ("手机", "xiaomi"): ("14", "14 Ultra", "Civi 4"), ("手机", "apple"): ("iPhone 15", "iPhone 15 Pro", "iPhone 16"),
    ("手机", "oppo"): ("Find X7", "Reno12", "A3"), ("手机", "vivo"): ("X100", "S19", "Y200"),
    ("手机", "honor"): ("Magic6", "90 GT", "X50"), ("手机", "redmi"): ("K70", "Note 13", "Turbo 3"),
    ("手机", "oneplus"): ("12", "Ace 3"), ("手机", "samsung"): ("Galaxy S24", "Galaxy Z Flip5"),
    ("笔记本", "lenovo"): ("ThinkPad X1", "YOGA Pro 14s", "Legion R9000P"),
    ("笔记本", "huawei"): ("MateBook 14", "MateBook X Pro"), ("笔记本", "apple"): ("MacBook Air", "MacBook Pro"),
    ("笔记本", "dell"): ("XPS 13", "Inspiron 14"), ("笔记本", "asus"): ("ZenBook 14", "ROG Zephyrus"),
    ("笔记本", "hp"): ("Pavilion 14", "EliteBook 840"), ("笔记本", "xiaomi"): ("Book Pro 14", "Redmi Book 16"),
    ("平板", "apple"): ("iPad Air", "iPad Pro", "iPad mini"), ("平板", "huawei"): ("MatePad 11", "MatePad Pro"),
    ("平板", "xiaomi"): ("Pad 6", "Pad 6S Pro"), ("平板", "lenovo"): ("Tab P12", "Legion Y700"),
    ("平板", "samsung"): ("Galaxy Tab S9",),
    ("智能手表", "huawei"): ("WATCH GT 4", "WATCH 4 Pro"), ("智能手表", "apple"): ("Watch Series 9", "Watch Ultra 2"),
    ("智能手表", "xiaomi"): ("Watch S3", "Band 8 Pro"), ("智能手表", "garmin"): ("Forerunner 265", "fenix 7"),
    ("耳机", "apple"): ("AirPods Pro", "AirPods 3"), ("耳机", "sony"): ("WH-1000XM5", "WF-1000XM5"),
    ("耳机", "huawei"): ("FreeBuds Pro 3", "FreeBuds 5i"), ("耳机", "xiaomi"): ("Buds 4 Pro", "Buds 5"),
    ("耳机", "edifier"): ("W820NB", "Lolli Pro 3"), ("耳机", "sennheiser"): ("Momentum 4", "CX Plus"),
    ("耳机", "bose"): ("QuietComfort Ultra", "QC Earbuds II"),
}

# Earphone lines that are over-ear; every other earphone line is true wireless.
OVER_EAR = frozenset({"WH-1000XM5", "Momentum 4", "QuietComfort Ultra", "W820NB"})
