"""The demo shop's category tree: Chinese paths, English names, and what each leaf sells.

Each leaf says which words name its products (zh / en), its price range in CNY, whether its
goods are consumables (bought again every few weeks) or durables (bought once), which leaves
complement it ("bought together"), its attributes, and its brands with a price tier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shopsense.demo.vocab import (
    ENERGY,
    GENDER_BOTH,
    GENDER_MEN,
    GENDER_WOMEN,
    PHONE_STORAGE,
    SIZES_CLOTHES,
    SIZES_SHOES,
    AttrSpec,
    Pair,
    colours,
    const,
    flag,
    pairs,
)

TIERS = ("cheap", "mid", "premium")

# zh name -> en name for every inner node.
INNER_NODES: dict[str, str] = {
    "家电": "Appliances", "手机数码": "Phones & Electronics", "电脑办公": "Computers & Office",
    "服饰": "Clothing", "服饰 > 男装": "Menswear", "服饰 > 女装": "Womenswear",
    "鞋靴": "Shoes & Boots", "美妆护肤": "Beauty & Skincare", "食品": "Food & Drinks",
    "母婴": "Mother & Baby", "运动户外": "Sports & Outdoors", "家居": "Home",
}


@dataclass(frozen=True, slots=True)
class Leaf:
    path: str  # Chinese category path, "家电 > 空调"
    en: str  # English name of the leaf node
    words_zh: tuple[str, ...]  # product-type words; the first is the canonical one
    words_en: tuple[str, ...]
    price: tuple[float, float]  # inclusive bounds in CNY
    brands: tuple[tuple[str, str], ...]  # (brand key, tier)
    attrs: dict[str, AttrSpec]
    consumable: bool = False
    repurchase_days: int | None = None
    complements: tuple[str, ...] = ()
    series: tuple[Pair, ...] = ()  # generic product lines, (zh, en)
    points: tuple[Pair, ...] = ()  # selling points for descriptions, (zh, en)
    model_prefix: str = ""  # electronics / appliances get model numbers
    share: float = 1.0  # relative share of the catalogue
    interest: float = 1.0  # relative share of shoppers' attention
    title_attrs: tuple[str, ...] = field(default=())  # attributes written into titles, in order

    @property
    def name(self) -> str:
        return self.path.rsplit(" > ", 1)[-1]


def _tiers(spec: str) -> tuple[tuple[str, str], ...]:
    """`"gree:p midea:m aux:c"` -> (("gree", "premium"), ("midea", "mid"), ("aux", "cheap"))."""
    tier = {"c": "cheap", "m": "mid", "p": "premium"}
    return tuple((k, tier[t]) for k, t in (item.split(":") for item in spec.split()))


_OUTDOOR = "mobigarden:m camel:c toread:m northface:p decathlon:c"

LEAVES: tuple[Leaf, ...] = (
    Leaf("家电 > 空调", "Air Conditioners", ("空调", "变频空调", "冷暖空调"),
         ("Air Conditioner", "Inverter AC", "Inverter Air Conditioner"), (1800, 9000),
         _tiers("gree:p midea:m haier:m aux:c hisense:c daikin:p tcl:c"),
         {"power": AttrSpec(pairs(("1匹", "1 HP"), ("1.5匹", "1.5 HP"), ("2匹", "2 HP"), ("3匹", "3 HP")),
                            (0.3, 0.4, 0.2, 0.1), price_driver=True),
          "energy_class": ENERGY, "type": AttrSpec((("挂机", "wall-mounted"), ("柜机", "floor-standing")),
                                                   (0.75, 0.25), price_driver=True),
          "colour": colours("white", "gold", "silver")},
         series=(("云佳", "Yunjia"), ("酷省电", "CoolSaver"), ("风尊", "Fengzun"), ("静悦", "QuietJoy")),
         points=(("冷暖两用，快速制冷制热", "Heats and cools quickly"),
                 ("低噪运行，适合卧室", "Runs quietly, ideal for bedrooms"),
                 ("自清洁，WiFi 智能控制", "Self-cleaning with Wi-Fi control")),
         model_prefix="KFR-", title_attrs=("type", "power", "energy_class", "colour")),
    Leaf("家电 > 冰箱", "Refrigerators", ("冰箱", "电冰箱"), ("Refrigerator", "Fridge"),
         (1200, 12000), _tiers("haier:m midea:m siemens:p ronshen:c casarte:p tcl:c"),
         {"capacity": AttrSpec(pairs("218L", "325L", "405L", "510L", "615L"), price_driver=True),
          "doors": AttrSpec((("双门", "double-door"), ("三门", "three-door"), ("十字对开门", "French-door")),
                            price_driver=True),
          "energy_class": ENERGY, "colour": colours("white", "silver", "grey", "gold")},
         series=(("风冷无霜", "Frost-Free"), ("鲜派", "FreshPlus"), ("净味", "PureFresh")),
         points=(("风冷无霜，免除手动除霜", "Frost-free cooling, no manual defrosting"),
                 ("独立保鲜空间，果蔬更持久", "Separate fresh zone keeps produce longer")),
         model_prefix="BCD-", title_attrs=("capacity", "doors", "energy_class", "colour")),
    Leaf("家电 > 洗衣机", "Washing Machines", ("洗衣机", "全自动洗衣机"),
         ("Washing Machine", "Washer"), (900, 8000),
         _tiers("littleswan:m haier:m midea:c siemens:p panasonic:p tcl:c"),
         {"capacity": AttrSpec(pairs("8kg", "10kg", "12kg"), (0.3, 0.55, 0.15), price_driver=True),
          "type": AttrSpec((("波轮", "top-load"), ("滚筒", "front-load"), ("洗烘一体", "washer-dryer")),
                           price_driver=True),
          "energy_class": ENERGY, "colour": colours("white", "silver", "grey")},
         series=(("超薄", "Slim"), ("除菌", "Hygiene"), ("智投", "SmartDose")),
         points=(("高温除菌除螨", "High-temperature wash removes bacteria and mites"),
                 ("智能投放洗涤剂", "Doses detergent automatically")),
         model_prefix="XQG", title_attrs=("type", "capacity", "energy_class", "colour")),
    Leaf("家电 > 电视", "Televisions", ("电视", "液晶电视", "智能电视"), ("TV", "Smart TV", "4K TV"),
         (1000, 15000), _tiers("xiaomi:c hisense:m tcl:c sony:p skyworth:m samsung:p"),
         {"screen_size": AttrSpec(pairs(("55英寸", "55 inch"), ("65英寸", "65 inch"), ("75英寸", "75 inch"),
                                        ("85英寸", "85 inch")), (0.3, 0.35, 0.25, 0.1), price_driver=True),
          "resolution": const("4K"), "refresh_rate": AttrSpec(pairs("60Hz", "120Hz", "144Hz"), price_driver=True),
          "colour": colours("black", "grey")},
         points=(("4K 超高清画质", "Sharp 4K picture"), ("远场语音控制", "Far-field voice control")),
         model_prefix="", title_attrs=("screen_size", "resolution", "refresh_rate")),
    Leaf("家电 > 扫地机器人", "Robot Vacuums", ("扫地机器人", "扫地机"), ("Robot Vacuum", "Robot Vacuum Cleaner"),
         (999, 5999), _tiers("ecovacs:m roborock:m xiaomi:c dyson:p midea:c"),
         {"type": AttrSpec((("扫拖一体", "vacuum and mop"), ("自动集尘", "self-emptying")), price_driver=True),
          "colour": colours("white", "black")},
         points=(("激光导航，自动规划路线", "Laser navigation plans its own route"),
                 ("APP 远程控制", "Controlled from the app")),
         model_prefix="T", share=0.6, interest=0.6, title_attrs=("type", "colour")),
    Leaf("手机数码 > 手机", "Mobile Phones", ("手机", "智能手机", "5G手机"), ("Smartphone", "Phone", "5G Phone"),
         (800, 9999), _tiers("huawei:p xiaomi:m apple:p oppo:m vivo:m honor:m redmi:c oneplus:m samsung:p"),
         {"capacity": PHONE_STORAGE, "colour": colours("black", "white", "blue", "purple", "green", "gold"),
          "network": const("5G")},
         points=(("5G 全网通，双卡双待", "5G, dual SIM"), ("影像旗舰，夜景清晰", "Flagship camera, clear night shots"),
                 ("大电池，支持快充", "Big battery with fast charging")),
         model_prefix="", share=1.4, interest=1.6, complements=("手机数码 > 手机壳", "手机数码 > 耳机"),
         title_attrs=("network", "capacity", "colour")),
    Leaf("手机数码 > 耳机", "Headphones", ("耳机", "蓝牙耳机", "无线耳机"),
         ("Headphones", "Bluetooth Headphones", "Wireless Headphones"), (69, 2999),
         _tiers("apple:p sony:p huawei:m xiaomi:c edifier:c sennheiser:p bose:p"),
         {"type": AttrSpec((("真无线", "true wireless"), ("头戴式", "over-ear")), (0.7, 0.3)),
          "noise_cancelling": flag(0.55), "waterproof": flag(0.5),
          "colour": colours("white", "black", "blue")},
         points=(("蓝牙 5.3，连接稳定", "Bluetooth 5.3, stable connection"),
                 ("长续航，单次听歌 8 小时", "8 hours of music per charge")),
         model_prefix="", share=1.1, interest=1.2, title_attrs=("type", "noise_cancelling", "colour")),
    Leaf("手机数码 > 平板", "Tablets", ("平板电脑", "平板"), ("Tablet", "Tablet PC"), (999, 8999),
         _tiers("apple:p huawei:m xiaomi:c lenovo:c samsung:p"),
         {"capacity": AttrSpec(pairs("128GB", "256GB", "512GB"), price_driver=True),
          "screen_size": AttrSpec(pairs(("11英寸", "11 inch"), ("12.4英寸", "12.4 inch"), ("13英寸", "13 inch")),
                                  price_driver=True),
          "colour": colours("grey", "silver", "blue", "purple")},
         points=(("高刷护眼屏，学习娱乐都合适", "Eye-care high-refresh screen for study and play"),
                 ("支持手写笔和键盘", "Works with stylus and keyboard")),
         complements=("手机数码 > 耳机",), title_attrs=("screen_size", "capacity", "colour")),
    Leaf("手机数码 > 智能手表", "Smartwatches", ("智能手表", "运动手表"), ("Smartwatch", "Sports Watch"),
         (299, 5999), _tiers("huawei:m apple:p xiaomi:c garmin:p"),
         {"waterproof": flag(0.85), "colour": colours("black", "silver", "pink", "green"),
          "gender": AttrSpec((("男", "men"), ("女", "women"), ("通用", "unisex")), (0.3, 0.3, 0.4))},
         points=(("心率血氧监测", "Heart-rate and SpO2 tracking"), ("100+ 运动模式", "100+ sport modes")),
         share=0.7, interest=0.8, title_attrs=("waterproof", "colour")),
    Leaf("手机数码 > 手机壳", "Phone Cases", ("手机壳", "保护壳"), ("Phone Case", "Protective Case"),
         (9.9, 199), _tiers("baseus:m ugreen:c torras:p"),
         {"material": AttrSpec((("硅胶", "silicone"), ("TPU", "TPU"), ("皮革", "leather")), price_driver=True),
          "colour": colours("black", "blue", "pink", "green", "purple"), "fits": AttrSpec(pairs(
              "iPhone 15", "iPhone 16", "Mate 60 Pro", "Xiaomi 14", "Pura 70"))},
         points=(("四角气囊防摔", "Air-cushioned corners absorb drops"), ("精准开孔", "Precise cut-outs")),
         share=0.8, interest=0.5, title_attrs=("fits", "material", "colour")),
    Leaf("电脑办公 > 笔记本", "Laptops", ("笔记本电脑", "笔记本"), ("Laptop", "Notebook"),
         (2999, 19999), _tiers("lenovo:m huawei:p apple:p dell:m asus:m hp:m xiaomi:c"),
         {"memory": AttrSpec(pairs("16GB", "32GB"), (0.7, 0.3), price_driver=True),
          "storage": AttrSpec(pairs("512GB SSD", "1TB SSD"), price_driver=True),
          "screen_size": AttrSpec(pairs(("14英寸", "14 inch"), ("16英寸", "16 inch"))),
          "colour": colours("silver", "grey", "black")},
         points=(("轻薄机身，续航持久", "Thin and light with long battery life"),
                 ("高色域屏幕，办公设计皆宜", "Wide-gamut screen for work and design")),
         share=1.1, interest=1.1, complements=("电脑办公 > 鼠标", "电脑办公 > 显示器"),
         title_attrs=("screen_size", "memory", "storage", "colour")),
    Leaf("电脑办公 > 显示器", "Monitors", ("显示器", "电脑显示器"), ("Monitor", "Computer Monitor"),
         (599, 4999), _tiers("dell:m samsung:p aoc:c philips:c lg:m"),
         {"screen_size": AttrSpec(pairs(("24英寸", "24 inch"), ("27英寸", "27 inch"), ("32英寸", "32 inch")),
                                  price_driver=True),
          "resolution": AttrSpec(pairs("2K", "4K")), "refresh_rate": AttrSpec(pairs("75Hz", "144Hz", "165Hz"))},
         points=(("IPS 面板，色彩准确", "IPS panel with accurate colour"), ("低蓝光不闪屏", "Low blue light, flicker-free")),
         model_prefix="", share=0.7, interest=0.6, title_attrs=("screen_size", "resolution", "refresh_rate")),
    Leaf("电脑办公 > 鼠标", "Mice", ("鼠标",), ("Mouse", "Computer Mouse"),
         (29, 699), _tiers("logitech:m razer:p xiaomi:c ugreen:c"),
         {"connection": AttrSpec((("无线", "wireless"), ("有线", "wired"), ("蓝牙双模", "Bluetooth dual-mode")),
                                 price_driver=True),
          "colour": colours("black", "white", "pink")},
         points=(("人体工学设计，久握不累", "Ergonomic shape for long sessions"), ("静音按键", "Silent clicks")),
         share=0.6, interest=0.5, title_attrs=("connection", "colour")),
    Leaf("服饰 > 男装 > T恤", "T-Shirts", ("T恤", "短袖T恤", "男士T恤"), ("T-Shirt", "Tee"),
         (39, 399), _tiers("uniqlo:c lining:m nike:p adidas:p hla:c semir:c"),
         {"gender": GENDER_MEN, "size": SIZES_CLOTHES,
          "colour": colours("white", "black", "grey", "navy", "blue", "khaki"),
          "material": AttrSpec((("纯棉", "cotton"), ("速干面料", "quick-dry polyester"), ("冰丝", "ice silk")))},
         series=(("圆领", "Crew Neck"), ("宽松", "Relaxed Fit"), ("运动", "Sport")),
         points=(("透气吸汗，夏季必备", "Breathable and sweat-wicking for summer"), ("不易变形", "Keeps its shape")),
         share=1.3, interest=1.2, title_attrs=("gender", "material", "colour")),
    Leaf("服饰 > 女装 > 连衣裙", "Dresses", ("连衣裙", "裙子"), ("Dress", "Midi Dress"),
         (69, 1299), _tiers("uniqlo:c ur:m peacebird:m semir:c"),
         {"gender": GENDER_WOMEN, "size": SIZES_CLOTHES,
          "colour": colours("black", "white", "red", "pink", "blue", "beige", "green"),
          "material": AttrSpec((("雪纺", "chiffon"), ("纯棉", "cotton"), ("真丝", "silk")), price_driver=True)},
         series=(("法式", "French-style"), ("收腰", "Fitted"), ("碎花", "Floral")),
         points=(("显瘦收腰", "Flattering fitted waist"), ("通勤约会皆宜", "Works for office and dates")),
         share=1.2, interest=1.1, title_attrs=("material", "colour")),
    Leaf("服饰 > 羽绒服", "Down Jackets", ("羽绒服", "羽绒外套"), ("Down Jacket", "Puffer Jacket"),
         (199, 3999), _tiers("bosideng:m canadagoose:p uniqlo:c lining:m northface:p"),
         {"gender": GENDER_BOTH, "size": SIZES_CLOTHES, "colour": colours("black", "navy", "red", "beige", "khaki"),
          "fill": AttrSpec((("白鸭绒 90%", "90% white duck down"), ("白鹅绒 95%", "95% white goose down")),
                           price_driver=True),
          "waterproof": flag(0.4)},
         points=(("保暖轻盈", "Warm yet light"), ("可拆卸帽子", "Detachable hood")),
         complements=("鞋靴 > 靴子",), title_attrs=("gender", "fill", "colour")),
    Leaf("鞋靴 > 运动鞋", "Sneakers", ("运动鞋", "跑步鞋", "跑鞋"), ("Sneakers", "Running Shoes", "Trainers"),
         (199, 1599), _tiers("nike:p adidas:p lining:m anta:c xtep:c newbalance:m"),
         {"gender": GENDER_BOTH, "size": SIZES_SHOES, "colour": colours("white", "black", "grey", "blue", "red"),
          "waterproof": flag(0.2)},
         series=(("缓震", "Cushioned"), ("轻便", "Lightweight"), ("复古", "Retro")),
         points=(("缓震回弹，长跑不累", "Cushioned and springy for long runs"), ("防滑耐磨大底", "Grippy, hard-wearing sole")),
         share=1.2, interest=1.2, complements=("服饰 > 男装 > T恤",), title_attrs=("gender", "waterproof", "colour")),
    Leaf("鞋靴 > 靴子", "Boots", ("靴子", "短靴"), ("Boots", "Ankle Boots"),
         (199, 2499), _tiers("timberland:p drmartens:p camel:c columbia:m"),
         {"gender": GENDER_BOTH, "size": SIZES_SHOES, "colour": colours("black", "brown", "khaki"),
          "material": AttrSpec((("真皮", "leather"), ("麂皮", "suede"), ("尼龙", "nylon"))),
          "waterproof": flag(0.6)},
         points=(("防滑大底，户外通勤皆宜", "Non-slip sole for trails and town"), ("加绒保暖", "Fleece-lined for warmth")),
         title_attrs=("gender", "waterproof", "material", "colour")),
    Leaf("美妆护肤 > 面霜", "Face Creams", ("面霜", "保湿霜"), ("Face Cream", "Moisturizer"),
         (59, 2999), _tiers("lancome:p esteelauder:p loreal:m pechoin:c proya:m"),
         {"volume": AttrSpec(pairs("30ml", "50ml", "75ml"), price_driver=True),
          "skin_type": AttrSpec((("干性", "dry"), ("油性", "oily"), ("混合性", "combination"), ("敏感肌", "sensitive")))},
         points=(("深层补水，长效保湿", "Deep, lasting hydration"), ("温和不刺激", "Gentle, non-irritating")),
         consumable=True, repurchase_days=40, title_attrs=("volume",)),
    Leaf("美妆护肤 > 口红", "Lipsticks", ("口红", "唇膏"), ("Lipstick", "Lip Colour"),
         (49, 499), _tiers("dior:p ysl:p perfectdiary:c florasis:m mac:m"),
         {"colour": AttrSpec((("正红色", "red"), ("豆沙色", "rose"), ("番茄色", "tomato red"), ("裸色", "nude"),
                              ("枫叶色", "maple"))), "finish": AttrSpec((("哑光", "matte"), ("滋润", "satin")))},
         points=(("显色持久不拔干", "Rich colour that lasts without drying"), ("送礼自用皆宜", "A gift or a treat")),
         consumable=True, repurchase_days=55, share=0.8, title_attrs=("finish", "colour")),
    Leaf("美妆护肤 > 洗发水", "Shampoo", ("洗发水", "洗发露"), ("Shampoo", "Hair Shampoo"),
         (19, 199), _tiers("headshoulders:m pantene:m rejoice:c adolph:p loreal:m"),
         {"volume": AttrSpec(pairs("400ml", "500ml", "750ml"), price_driver=True),
          "hair_type": AttrSpec((("去屑", "anti-dandruff"), ("控油", "oil control"), ("柔顺", "smoothing"),
                                 ("修护", "repair")))},
         points=(("温和清洁头皮", "Cleans the scalp gently"), ("持久留香", "Long-lasting scent")),
         consumable=True, repurchase_days=30, title_attrs=("hair_type", "volume")),
    Leaf("食品 > 零食", "Snacks", ("零食", "零食大礼包"), ("Snacks", "Snack Pack"),
         (9.9, 99), _tiers("threesquirrels:m bestore:m becheery:c lays:c oreo:c"),
         {"flavour": AttrSpec((("原味", "original"), ("香辣", "spicy"), ("奶油", "creamy"), ("海苔", "seaweed"),
                               ("番茄", "tomato"))),
          "weight": AttrSpec(pairs("100g", "500g", "1kg"), price_driver=True)},
         points=(("独立小包装，办公室必备", "Individually wrapped, great for the office"), ("酥脆可口", "Crisp and tasty")),
         consumable=True, repurchase_days=14, share=1.2, interest=1.4, title_attrs=("flavour", "weight")),
    Leaf("食品 > 咖啡", "Coffee", ("咖啡",), ("Coffee",),
         (19, 299), _tiers("nestle:c starbucks:p saturnbird:m luckin:m"),
         {"type": AttrSpec((("速溶", "instant"), ("咖啡豆", "whole bean"), ("挂耳", "drip bag"), ("冻干", "freeze-dried"))),
          "flavour": AttrSpec((("美式", "americano"), ("拿铁", "latte"), ("无糖黑咖啡", "unsweetened black"))),
          "weight": AttrSpec(pairs("100g", "250g", "500g"), price_driver=True)},
         points=(("香醇浓郁，提神醒脑", "Rich aroma to wake you up"), ("冷热皆宜", "Hot or iced")),
         consumable=True, repurchase_days=21, complements=("食品 > 牛奶",), title_attrs=("type", "flavour", "weight")),
    Leaf("食品 > 茶叶", "Tea", ("茶叶", "茶"), ("Tea", "Loose Leaf Tea"),
         (29, 999), _tiers("dayi:p zhangyiyuan:m lipton:c chinatea:m"),
         {"type": AttrSpec((("绿茶", "green"), ("普洱", "pu-erh"), ("红茶", "black"), ("乌龙", "oolong"))),
          "weight": AttrSpec(pairs("100g", "250g", "357g"), price_driver=True),
          "origin": AttrSpec((("云南", "Yunnan"), ("福建", "Fujian"), ("浙江", "Zhejiang")))},
         points=(("口感醇厚回甘", "Smooth with a sweet finish"), ("送礼佳品", "A classic gift")),
         consumable=True, repurchase_days=35, share=0.8, title_attrs=("type", "weight")),
    Leaf("食品 > 牛奶", "Milk", ("牛奶", "纯牛奶"), ("Milk", "Pure Milk"), (39, 129),
         _tiers("yili:m mengniu:m bright:c anchor:p junlebao:c"),
         {"type": AttrSpec((("全脂", "whole"), ("脱脂", "skimmed"), ("有机", "organic")), price_driver=True),
          "weight": AttrSpec(pairs(("250ml×12盒", "12 x 250ml"), ("250ml×24盒", "24 x 250ml")), price_driver=True)},
         points=(("优质乳蛋白", "Rich in quality milk protein"), ("早餐好搭档", "A breakfast staple")),
         consumable=True, repurchase_days=10, interest=1.2, title_attrs=("type", "weight")),
    Leaf("母婴 > 纸尿裤", "Diapers", ("纸尿裤", "尿不湿"), ("Diapers", "Nappies"), (59, 299),
         _tiers("pampers:m huggies:m merries:p moony:p"),
         {"size": AttrSpec(pairs("NB", "S", "M", "L", "XL"), in_title=True),
          "age_group": AttrSpec((("0-6个月", "0-6 months"), ("6-12个月", "6-12 months"), ("1-3岁", "1-3 years")))},
         points=(("超薄透气，干爽不闷", "Ultra-thin and breathable"), ("柔软亲肤", "Soft on baby's skin")),
         consumable=True, repurchase_days=14, complements=("母婴 > 奶粉",), title_attrs=("size",)),
    Leaf("母婴 > 奶粉", "Infant Formula", ("奶粉", "婴儿奶粉", "配方奶粉"), ("Infant Formula", "Baby Formula"),
         (159, 599), _tiers("feihe:m meadjohnson:m wyeth:p aptamil:p yili:c"),
         {"stage": AttrSpec((("1段", "Stage 1"), ("2段", "Stage 2"), ("3段", "Stage 3"))),
          "age_group": AttrSpec((("0-6个月", "0-6 months"), ("6-12个月", "6-12 months"), ("1-3岁", "1-3 years"))),
          "weight": AttrSpec(pairs("800g", "900g"))},
         points=(("接近母乳配方", "Formulated close to breast milk"), ("添加 DHA", "With added DHA")),
         consumable=True, repurchase_days=20, complements=("母婴 > 纸尿裤",), title_attrs=("stage", "weight")),
    Leaf("母婴 > 儿童玩具", "Kids' Toys", ("积木玩具", "拼装积木"), ("Building Blocks", "Building Toy"),
         (39, 1999), _tiers("lego:p bloks:m auldey:c"),
         {"age_group": AttrSpec((("3-6岁", "3-6 years"), ("6-12岁", "6-12 years"), ("12岁以上", "12+ years"))),
          "pieces": AttrSpec(pairs("100", "500", "1000"), price_driver=True)},
         points=(("锻炼动手能力", "Builds hands-on skills"), ("环保材质，安全无毒", "Safe, non-toxic materials")),
         share=0.8, interest=0.7, title_attrs=("age_group",)),
    Leaf("运动户外 > 帐篷", "Tents", ("帐篷", "露营帐篷"), ("Tent", "Camping Tent"),
         (199, 3999), _tiers(_OUTDOOR),
         {"persons": AttrSpec(pairs(("2人", "2-person"), ("3-4人", "3-4 person"), ("5-8人", "5-8 person")),
                              price_driver=True),
          "waterproof": flag(0.8), "colour": colours("green", "khaki", "grey", "blue")},
         points=(("搭建快速，一分钟成型", "Pitches in a minute"), ("通风防蚊", "Ventilated with bug mesh")),
         share=0.8, interest=0.7, complements=("运动户外 > 睡袋",), title_attrs=("persons", "waterproof", "colour")),
    Leaf("运动户外 > 睡袋", "Sleeping Bags", ("睡袋", "露营睡袋"), ("Sleeping Bag", "Camping Sleeping Bag"),
         (99, 1999), _tiers(_OUTDOOR),
         {"temperature": AttrSpec(pairs(("15℃", "15°C"), ("5℃", "5°C"), ("-5℃", "-5°C")), price_driver=True),
          "waterproof": flag(0.5), "colour": colours("blue", "green", "grey")},
         points=(("轻便易收纳", "Packs small and light"), ("四季可用", "For three or four seasons")),
         share=0.6, interest=0.5, complements=("运动户外 > 帐篷",), title_attrs=("temperature", "colour")),
    Leaf("运动户外 > 瑜伽垫", "Yoga Mats", ("瑜伽垫", "健身垫"), ("Yoga Mat", "Exercise Mat"), (39, 599),
         _tiers("keep:m decathlon:c lining:m lululemon:p"),
         {"thickness": AttrSpec(pairs("6mm", "8mm", "10mm")),
          "material": AttrSpec((("TPE", "TPE"), ("NBR", "NBR"), ("天然橡胶", "natural rubber")), price_driver=True),
          "colour": colours("purple", "pink", "blue", "green", "black")},
         points=(("双面防滑", "Non-slip on both sides"), ("回弹好，保护膝盖", "Springy, kind to knees")),
         share=0.7, interest=0.7, title_attrs=("thickness", "material", "colour")),
    Leaf("家居 > 床品", "Bedding", ("床品四件套", "四件套"), ("Bedding Set", "Duvet Cover Set"),
         (99, 2999), _tiers("luolai:p fuanna:m mercury:m muji:m"),
         {"bed_size": AttrSpec(pairs(("1.5m床", "150cm bed"), ("1.8m床", "180cm bed"), ("2.0m床", "200cm bed")),
                               price_driver=True),
          "material": AttrSpec((("纯棉", "cotton"), ("天丝", "tencel"), ("长绒棉", "long-staple cotton"),
                                ("真丝", "silk")), price_driver=True),
          "colour": colours("white", "grey", "blue", "pink", "beige")},
         points=(("亲肤透气，裸睡级舒适", "Soft and breathable"), ("不起球不褪色", "No pilling, no fading")),
         interest=0.9, title_attrs=("material", "bed_size", "colour")),
)

LEAF_BY_PATH: dict[str, Leaf] = {leaf.path: leaf for leaf in LEAVES}


def english_path(path: str) -> str:
    """`"家电 > 空调"` -> `"Appliances > Air Conditioners"` for any node of the tree."""
    parts = path.split(" > ")
    names = []
    for i in range(1, len(parts) + 1):
        prefix = " > ".join(parts[:i])
        names.append(LEAF_BY_PATH[prefix].en if prefix in LEAF_BY_PATH else INNER_NODES[prefix])
    return " > ".join(names)
