"""Chinese personal-name data for generating realistic demo clients.

Pure data, no logic.  A demo name is built as one surname followed by one or
two given-name characters, e.g. 张伟, 王秀英, 李建国.

* ``SURNAMES`` -- the 100 most common single-character Chinese surnames (姓),
  in rough order of population frequency (most common first), so callers may
  weight towards the start of the tuple if they wish.
* ``GIVEN_CHARS_MALE`` / ``GIVEN_CHARS_FEMALE`` -- 80 characters each that
  commonly appear in male / female given names (名).  Some characters
  (e.g. 华, 晓, 嘉) are genuinely used for both and appear in both tuples.

Each tuple is built with ``tuple("...")`` over a string literal, so every
element is exactly one character; each source line holds ten characters.
"""

SURNAMES: tuple[str, ...] = tuple(
    "王李张刘陈杨黄赵吴周"
    "徐孙马朱胡郭何林高罗"
    "郑梁谢宋唐许韩冯邓曹"
    "彭曾肖田董潘袁蔡蒋余"
    "于杜叶程魏苏吕丁任卢"
    "姚沈钟姜崔谭陆范汪廖"
    "石金韦贾夏付方邹熊白"
    "孟秦邱侯江尹薛闫段雷"
    "龙黎史陶贺毛郝顾龚邵"
    "万覃武钱戴严莫孔向常"
)

GIVEN_CHARS_MALE: tuple[str, ...] = tuple(
    "伟强磊军勇杰涛斌超明"
    "刚平辉鹏华飞鑫波宇浩"
    "凯健俊帆帅旭宁龙林阳"
    "建国志文海东峰亮成江"
    "新永立荣德晨博昊然轩"
    "泽睿子豪晓天振世家兴"
    "中光庆宏彬毅锋昌福金"
    "生力卫胜洪学良瑞嘉航"
)

GIVEN_CHARS_FEMALE: tuple[str, ...] = tuple(
    "芳娜敏静丽艳娟霞秀英"
    "玲桂兰萍燕红梅琳雪婷"
    "倩颖慧莉欣怡佳悦雨思"
    "琪晶洁璐露琴云凤珍玉"
    "华妍彤诗涵梦月晓晴蕾"
    "薇瑶菲岚文淑丹媛嘉可"
    "馨心雅茜冰莹春秋琼爱"
    "美素巧婉晨蓉宁紫欢清"
)
