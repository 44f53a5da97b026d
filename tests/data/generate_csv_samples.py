# Generates the CSV samples of tests/data (run from that folder; the files are committed).
ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY"
W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
def uscc(first17):
    s = sum(ALPHA.index(c) * w for c, w in zip(first17, W))
    return first17 + ALPHA[(31 - s % 31) % 31]
IDW = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
def idno(first17):
    s = sum(int(c) * w for c, w in zip(first17, IDW))
    return first17 + "10X98765432"[s % 11]
def cert(first17, cat, grade):
    return idno(first17) + str(cat) + str(grade)

E = [
 (uscc("91411202MA4000001"), "三门峡湖滨示例机械有限公司", "企业", "411202", "2012-03-15", "hr@hubin-jixie.example.cn", "", "否"),
 (uscc("91411203MA4000002"), "陕州区示例果业有限公司", "企业", "411203", "2016-07-01", "office@shanzhou-guoye.example.cn", "", "否"),
 (uscc("12411200MB4000003"), "三门峡市示例职业技术学校", "事业单位", "411200", "1998-09-01", "renshi@smx-zhixiao.example.cn", "85", "是"),
 (uscc("11411221MB4000004"), "渑池县示例局", "机关", "411221", "", "bgs@mianchi.example.gov.cn", "42", "是"),
 (uscc("51411281MJ4000005"), "义马市示例协会", "社会团体", "411281", "2010-05-20", "", "", "否"),
 (uscc("52411282MJ4000006"), "灵宝市示例康复中心", "民办非企业单位", "411282", "2019-11-11", "kf@lingbao.example.cn", "", "否"),
]
H = "统一社会信用代码,单位名称,单位类型,行政区划代码,成立日期,联系邮箱,编制人数,残工委成员单位"
with open("employers.csv", "w", encoding="utf-8-sig", newline="") as f:
    f.write(H + "\r\n")
    for e in E:
        f.write(",".join(e) + "\r\n")

G = [
 (uscc("91411224MA4000011"), "卢氏县示例食品有限公司", "企业", "411224", "2015/4/8", "hr@lushi-food.example.cn", "", "否"),
 (uscc("91411200MA4000012"), "三门峡示例物流有限公司", "企业", "411200", "2020/1/2", "", "", "否"),
 (uscc("12411202MB4000013"), "湖滨区示例医院", "事业单位", "411202", "1985/6/30", "rsk@hubin-yy.example.cn", "320", "是"),
]
HG = "*统一社会信用代码,*单位名称,*单位类型,*行政区划代码,成立日期,联系邮箱,编制人数（人）,是否残工委成员单位"
with open("employers-gbk.csv", "w", encoding="gbk", newline="") as f:
    f.write(HG + "\r\n")
    for e in G:
        f.write(",".join(e) + "\r\n")

good1 = uscc("91411202MA4000021"); good2 = uscc("91411203MA4000022"); good3 = uscc("52411282MJ4000023")
badcheck = uscc("91411202MA4000024")[:-1] + ("A" if uscc("91411202MA4000024")[-1] != "A" else "B")
B = [
 (good1, "示例一有限公司", "企业", "411202", "2018-01-01", "a@example.cn"),
 (badcheck, "校验位错误有限公司", "企业", "411202", "2018-01-01", "b@example.cn"),
 (uscc("91411200MA4000025"), "区划错误有限公司", "企业", "999999", "2018-01-01", ""),
 (good2, "示例二有限公司", "企业", "411203", "2018-01-01", ""),
 (good1, "重复代码有限公司", "企业", "411202", "2018-01-01", ""),
 (uscc("92411200MA4000026"), "类型错误个体户", "个体户", "411200", "2018-01-01", ""),
 (good3, "示例三康复中心", "民办非企业单位", "411282", "2018/6/1", ""),
]
with open("employers-bad.csv", "w", encoding="utf-8", newline="") as f:
    f.write("uscc,name,kind,region,registered_on,contact_email\n")
    for e in B:
        f.write(",".join(e) + "\n")

A, Bq, C, D = E[0][0], E[1][0], E[2][0], E[3][0]
months = ",".join(f"{m}月" for m in range(1, 13))
HD = f"统一社会信用代码,单位名称,{months},在职职工年平均人数,工资总额,经认证的残疾职工人数,残疾证号,证件类型,残疾等级,在职月份,是否在编,劳动合同期限（月）,是否足额缴纳社会保险,月工资,是否应届高校毕业生"
def row(u, name="", m=None, avg="", wages="", dc="", cno="", kind="", grade="", mon="", est="", contract="", si="", wage="", fresh=""):
    mm = [str(x) for x in m] if m else [""] * 12
    cells = [u, name] + mm + [avg, wages, dc, cno, kind, grade, mon, est, contract, si, wage, fresh]
    return ",".join(f'"{c}"' if "," in c else c for c in cells)
c1 = cert("41120219800101001", 1, 3)   # physical, grade 3
c2 = cert("41120219850615002", 2, 4)   # visual, grade 4
c3 = cert("41120219900320003", 4, 2)   # grade 2: weighs two
c4 = cert("41120219751111004", 7, 3)
rows = [
 row(A, E[0][1], [120,121,121,122,122,123,123,124,124,125,125,126], wages="6,543,210.00"),
 row(A, cno=c1, mon="1-12", contract="36", si="是", wage="3,200.00"),
 row(A, cno=c2, mon="3-12", contract="24", si="是", wage="3000"),
 row(Bq, E[1][1], avg="35.5", wages="1680000.00", dc="0"),
 row(C, E[2][1], [60]*12, wages="5,040,000.00", cno=c3, mon="全年", est="是", si="是", wage="5200.00"),
 row(C, cno="VET0410020", kind="残疾军人证", grade="二级", mon="1-6", est="是", si="是", wage="6100.00"),
 row(D, E[3][1], [42]*12, wages="4,032,000.00", dc="1"),
]
with open("declarations.csv", "w", encoding="utf-8-sig", newline="") as f:
    f.write(HD + "\r\n")
    for r in rows:
        f.write(r + "\r\n")

badcert = c4[:-3] + ("0" if c4[-3] != "0" else "1") + c4[-2:]   # wrong check digit
unknown = uscc("91411200MA4009999")
rows = [
 row(A, E[0][1], [120,121,121,122,122,123,123,124,124,125,None,126], wages="6543210.00"),
 row(Bq, E[1][1], avg="35.5", wages="1680000.00"),
 row(Bq, cno=c1, mon="1-3,13", contract="12", wage="3000"),
 row(C, E[2][1], [60]*12, wages="5040000.00"),
 row(C, cno=c3, mon="1-12", wage="5200"),
 row(C, cno=c3, mon="7-12", wage="5200"),
 row(D, E[3][1], [42]*12, wages="4032000.00", dc="1"),
 row(unknown, "未登记单位", [10]*12, wages="500000"),
 row(E[5][0], E[5][1], [25]*12, wages="900000.00"),
 row(E[5][0], cno=badcert, mon="1-12", wage="2500"),
]
rows[0] = rows[0].replace(",None,", ",,")
with open("declarations-bad.csv", "w", encoding="utf-8", newline="") as f:
    f.write(HD + "\n")
    for r in rows:
        f.write(r + "\n")
