"""Word lists for Chinese names: surnames, honorifics and the words that look like names.

The lists are general Chinese usage, not tuned to any text: common surnames (roughly the
300 most frequent), the titles that follow a surname, and the few everyday or legal words
that jieba's dictionary tags as person names (`nr`).
"""

from __future__ import annotations

from portal.privacy.text import words

# The most common single-character surnames, most frequent first.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰"
    "焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲"
    "房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟"
    "应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁"
    "胥南班储栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿"
    "国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊母裘亓修邰赫杭况那宿鲜印逯隆茹"
    "诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由和"
)
COMPOUND_SURNAMES = words(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 澹台 西门 南宫 端木 "
    "独孤 轩辕 呼延 百里 东郭 万俟 钟离 闻人 拓跋 申屠 司空 太史 第五")

# Titles written after a surname (王先生, 陈总, 贺律师). Longest first in any pattern.
HONORIFICS = tuple(sorted(words(
    "先生 女士 小姐 太太 夫人 律师 律 老师 教授 博士 医生 大夫 法官 检察官 警官 书记员 庭长 院长 "
    "所长 局长 处长 科长 部长 厂长 行长 校长 主任 经理 总经理 总监 主管 总 董 董事长 秘书 助理 "
    "会计 老板 师傅 阿姨 叔叔 大爷 大妈 大姐 大哥 姐 哥 工 同学 同志 顾问 代表"),
    key=len, reverse=True))
# Titles that only follow a person: 向/于/常 before them are surnames, not a preposition.
PERSONAL_HONORIFICS = words("先生 女士 小姐 太太 夫人 总")
# Titles that say which role the person has (for a surname two parties share).
ROLE_HINTS = {"律师": "lawyer", "律": "lawyer", "助理": "staff", "秘书": "staff"}
# 小王, 老李: these 小X/老X are words, not a surname with a diminutive.
DIMINUTIVE_WORDS = words(
    "小时 小区 小于 小康 小米 小心 小组 小学 小说 小计 小白 小将 小平 小卖 小伙 小费 小车 小鬼 "
    "小事 小额 小屋 小麦 小生 小雪 小满 小寒 小暑 小年 小金 小贾 小强 老师 老公 老实 老乡 老年 "
    "老化 老家 老板 老式 老成 老练 老汉 老伴 老鼠 老虎 老外 老总 老大 老二 老三 老是 老于 老常 "
    "老时 老和 老明")
# Dictionary words jieba tags nr that are never names in a complaint.
NEVER_PERSON = words(
    "谢谢 申请人 被申请人 上诉人 被上诉人 绿水青山 银山 金银 高官 明白 文明 和谐 武力 史诗 "
    "安全 平安夜 常识 司法 司机 元旦 元宵 支付宝 曾用名 英文名 中文名 真名 化名 笔名 网名 "
    "姓名 全名 本名 小名 迟延 许诺 马虎")  # legal words jieba tags nr (律师迟延回复)
# Characters that do not continue a name: 第4章第2节 is no 章第, 关联此案件 no 关联此.
NOT_IN_NAMES = frozenset("第的了在是和与及或被把对向从于以为而但则即之其此您你我他她它们这那某")
# Words that are names as often as ordinary words: a person only where the context says so.
ORDINARY_NAMES = words(
    "高明 白雪 金山 黎明 白云 江山 海燕 文静 明明 方方 平安 光明 和平 胜利 向阳 东方 长江 黄河 "
    "春风 金花 海洋 高峰 高潮 高山 高原 白天 白银 金融 金额 金钱 石油 石头 钱财 林业 林木 "
    "马路 马上 牛奶 周末 周年 周到 方向 方便 方案 江湖 夏天 秋天 宋体 常年 向来 温暖 "
    "严重 严格 安静 易经 钟点 孔雀 龙头 毛病 高兴 文化 华丽 黄金 万一 成功 于是")
# Nouns after which a name often follows (原告张三, 丈夫林志强, 律师：陈红梅).
ROLE_NOUNS = words(
    "原告 被告 申请人 被申请人 上诉人 被上诉人 第三人 证人 委托人 当事人 代理人 代理律师 客户 "
    "律师 助理 法官 审判员 书记员 经理 主任 合伙人 负责人 联系人 介绍人 法定代表人 员工 同事 "
    "丈夫 妻子 老公 老婆 爱人 儿子 女儿 父亲 母亲 爸爸 妈妈 哥哥 姐姐 弟弟 妹妹 朋友 邻居 "
    "房东 租客 买方 卖方 对方 名叫 叫做 姓名 名字 承办人 承办律师 主办律师 律师助理 前妻 前夫 "
    "岳父 岳母 公公 婆婆 女婿 儿媳 孙子 孙女 侄子 外甥")
# Words that follow a person's name (高明说 is a person, 不高明 is not).
NAME_FOLLOWERS = words(
    "说 称 讲 表示 认为 告诉 回复 答复 要求 承认 否认 签署 签字 签收 打电话 来电 致电 提出 "
    "声称 指出 坦言 同意 拒绝 承诺 解释 委托 联系 投诉 反映 询问 律师 先生 女士 本人")
# Characters that start the next word after a title even when jieba joins them to it
# (陈总和蒋女士 is segmented 陈/总和/蒋女士): a title ending before one of them is whole.
NEXT_WORD_CHARS = frozenset("和说的也在是让要会对把被给跟与及还又就都称表已")
# Words before an ordinary word used as a word, not as a name: 并不高明, 什么金山银山, 性格文静.
WORD_USE_BEFORE = words(
    "不 并不 很 非常 十分 更 最 太 挺 比较 相当 特别 真 多么 如此 那么 这么 什么 颇 极 较 更加 "
    "越发 有点 有些 性格 性情 为人 脾气 手段 做法 办法 水平 技术 医术 一片 一场 一幅")
# jieba tags of words that cannot start a name (prepositions, conjunctions, pronouns, ...).
FUNCTION_TAGS = words(
    "p c r u uj ul uz ud ug uv y e o x m q f d v vn ad an")


def surname_of(name: str) -> str:
    """The surname of a Chinese name: a compound surname when it starts with one."""
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    return name[:1]


def looks_like_chinese_name(word: str) -> bool:
    """2-3 characters starting with a common surname, or 3-4 with a compound one."""
    if not 2 <= len(word) <= 4 or not all(is_cjk(char) for char in word):
        return False
    if word[:2] in COMPOUND_SURNAMES:
        return len(word) >= 3
    return word[0] in SURNAMES and len(word) <= 3  # four characters: 江山易改, 严格执行


def is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"
