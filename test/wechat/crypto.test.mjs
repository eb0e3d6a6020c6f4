// The stand-in's own crypto against the known answers of WeChat's published
// WXBizMsgCrypt samples and docs (no server), so that the end-to-end tests
// check the server against something known to be right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as wx from './standin.mjs';

const NL = '\n';

test('signatures: plain mode (doc vector and pamtest)', () => {
    assert.equal(wx.signature('AAAAA', '1714037059', '486452656'), '899cf89e464efb63f54ddac96b0a0a235f53aa78');
    assert.equal(wx.signature('pamtest', '1409304348', 'xxxxxx'), '76480565cbe296026c53aaacd1ad523a1ddba24f');
    // the order of the arguments does not matter
    assert.equal(wx.signature('xxxxxx', 'pamtest', '1409304348'), '76480565cbe296026c53aaacd1ad523a1ddba24f');
});

test('aesKey: base64 of the EncodingAESKey plus "="', () => {
    assert.equal(wx.aesKey('jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C').toString('hex'),
        '8d69989bbaabe67328014c194631ad0719b3dca035b64023df292447aab60760');
    assert.equal(wx.aesKey('A'.repeat(43)).toString('hex'), '00'.repeat(32));
    assert.throws(() => wx.aesKey('short'));
});

test('padding is PKCS#7 to 32 bytes', () => {
    assert.equal(wx.pad32(Buffer.alloc(0)).length, 32);
    assert.deepEqual([...wx.pad32(Buffer.alloc(31)).subarray(31)], [1]);
    assert.equal(wx.pad32(Buffer.alloc(32)).length, 64);
    assert.deepEqual([...wx.pad32(Buffer.alloc(2))].slice(2), Array(30).fill(30));
    assert.deepEqual(wx.unpad32(wx.pad32(Buffer.from('abc'))), Buffer.from('abc'));
    assert.throws(() => wx.unpad32(Buffer.concat([Buffer.alloc(31), Buffer.from([33])])));
});

test('WeCom sample (QDG6eK): VerifyURL and DecryptMsg (pad 30)', () => {
    const key = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
    const echostr = 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==';
    assert.equal(wx.signature('QDG6eK', '1409659589', '263014780', echostr), '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3');
    assert.deepEqual(pick(wx.decrypt(key, echostr)), { msg: '1616140317555161061', appid: 'wx5823bf96d3bd56c7' });

    const enc = 'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==';
    assert.equal(wx.signature('QDG6eK', '1409659813', '1372623149', enc), '477715d11cdb4164915debcba66cb864d751f3e6');
    const d = wx.decrypt(key, enc);
    assert.equal(d.appid, 'wx5823bf96d3bd56c7');
    assert.equal(d.msg, ['<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>',
        '<FromUserName><![CDATA[mycreate]]></FromUserName>', '<CreateTime>1409659813</CreateTime>',
        '<MsgType><![CDATA[text]]></MsgType>', '<Content><![CDATA[hello]]></Content>',
        '<MsgId>4561255354251345929</MsgId>', '<AgentID>218</AgentID>', '</xml>'].join(NL));
    assert.equal(Buffer.byteLength(d.msg), 284);
    assert.equal(wx.field(d.msg, 'Content'), 'hello');
    assert.equal(wx.field(d.msg, 'MsgId'), '4561255354251345929');
});

test('WeCom sample (newer values): VerifyURL and DecryptMsg', () => {
    const key = '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt', token = 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo';
    const echostr = 'fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==';
    assert.equal(wx.signature(token, '1476416373', '47744683', echostr), '012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb');
    assert.deepEqual(pick(wx.decrypt(key, echostr)), { msg: '1288432023552776189', appid: 'ww1436e0e65a779aee' });
    const enc = 'Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+';
    assert.equal(wx.signature(token, '1476422779', '1597212914', enc), '0c3914025cb4b4d68103f6bfc8db550f79dcf48e');
    const d = wx.decrypt(key, enc);
    assert.equal(d.appid, 'ww1436e0e65a779aee');
    assert.equal(d.msg, '<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName>' +
        '<CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content>' +
        '<MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>');
    assert.equal(Buffer.byteLength(d.msg), 228);
    assert.equal(wx.field(d.msg, 'Content'), '你好');
});

test('official-account sample (pamtest): encrypt with a fixed random', () => {
    const key = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
    const enc = wx.encrypt(key, '我是中文abcd123', 'wxb11529c136998cb6', 'aaaabbbbccccdddd');
    assert.equal(enc, 'jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==');
    assert.deepEqual(pick(wx.decrypt(key, enc)), { msg: '我是中文abcd123', appid: 'wxb11529c136998cb6' });
});

test('official-account sample (spamtest): decrypt C1 and C2', () => {
    const key = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
    const plain = (ct, id) => ['<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>',
        '<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>', `<CreateTime>${ct}</CreateTime>`,
        '<MsgType><![CDATA[text]]></MsgType>', '<Content><![CDATA[abcdteT]]></Content>',
        `<MsgId>${id}</MsgId>`, '</xml>'].join(NL);
    const c1 = 'hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=';
    assert.equal(wx.signature('spamtest', '1409735669', '1320562132', c1), '5d197aaffba7e9b25a30732f161a50dee96bd5fa');
    const d1 = wx.decrypt(key, c1);
    assert.deepEqual(pick(d1), { msg: plain('1409735668', '6054768590064713728'), appid: 'wx2c2769f8efd9abc2' });
    assert.equal(Buffer.byteLength(d1.msg), 280);
    const c2 = 'mfBCs65c67CeJw22u4VT2TD73q5H06+ocrAIxswCaeZ/d/Lw0msSZFHY0teqgSYiI1zR2gD2DKrB3TIrmX/liNSDrGqS8jSI/WPeKB5VPr7Ezr7gomZAyGCwJSgT1TRFWPfONGJMxuj2nk4faTuspAuVIFQ6SHwZuJBZC7mcJp7Cgr9cUhATQWDbOPaE7ukZBTV2YqyzH+UI2AK+J1S47cE79k1RX8t0hcTz/O0hlK8DGXKnvYv88qKQcI7z4iaajqHfRVZKBNyOODabs+It+ZfM3dWTeFcPgDbGtIEnpt/EDtuuA/zMvtkaKdHdswPnVZQ+xdwbYr3ldGvfT8HlEYEgkgKaThxTFobVlwzu2ZkXCjicbP3xdr15Iq48ObgzPpqYuZ3IEoyggZDKClquk0u0orMck4GTF/XyE8yGzc4=';
    assert.equal(wx.signature('spamtest', '1410349438', '298025754', c2), '003fee52ecc56afb46c00b5c7721be87860ce785');
    assert.deepEqual(pick(wx.decrypt(key, c2)), { msg: plain('1410349438', '6057404712141979648'), appid: 'wx2c2769f8efd9abc2' });
});

test('official-account doc (AAAAA, all-zero key): push and encrypted reply', () => {
    const key = 'A'.repeat(43), appid = 'wx134c8103faa5a59e';
    const enc = 'D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp+ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhHTtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6ookXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4FUL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX/laZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg==';
    assert.equal(wx.signature('AAAAA', '1715943329', '1590219412', enc), '6c12a4205838198b8fa631b3220723bb07f1015c');
    const d = wx.decrypt(key, enc);
    assert.equal(d.appid, appid);
    assert.equal(d.msg, ['<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>',
        '<FromUserName><![CDATA[o9AgO5Kd5ggOC-bXrbNODIiE3bGY]]></FromUserName>', '<CreateTime>1715943329</CreateTime>',
        '<MsgType><![CDATA[event]]></MsgType>', '<Event><![CDATA[debug_demo]]></Event>',
        '<debug_str><![CDATA[hello world]]></debug_str>', '</xml>'].join(NL));
    assert.equal(Buffer.byteLength(d.msg), 292);
    // the reply, with the doc's fixed random
    const reply = wx.encrypt(key, '<xml><demo_resp>[CDATA[good luck]]</demo_resp></xml>', appid, '999951349e8ee746');
    assert.equal(reply, 'hE8R6mGXHkJJjU72KxzKUd1GEkKJaEZq7vRL8XgK3o+00k8JGq6+pZJUIlTSyhsX+bxIBQ72g3GyvDdIZcr6+3HAZbSvPT9t/o11MI7d6WELwqrGd7jMnV0zv3Zc9Nq7');
    assert.equal(wx.signature('AAAAA', '1713424427', '415670741', reply), '03e0812039325c2712ef5f0f980fd14c70d6e307');
});

test('round trips, random keys and lengths; decrypt refuses garbage', () => {
    for (let i = 0; i < 200; i++) {
        const key = wx.randomAesKey();
        const msg = '退货'.repeat(i % 7) + 'x'.repeat(i);
        const enc = wx.encrypt(key, msg, 'wx0000000000000001');
        assert.equal(Buffer.from(enc, 'base64').length % 32, 0);
        assert.deepEqual(pick(wx.decrypt(key, enc)), { msg, appid: 'wx0000000000000001' });
    }
    const key = wx.randomAesKey();
    assert.throws(() => wx.decrypt(key, 'AAAA'));
    assert.throws(() => wx.decrypt(key, wx.encrypt(wx.randomAesKey(), 'hello', 'wx1')));
});

test('the XML field extractor', () => {
    const x = '<xml><ToUserName><![CDATA[a]]></ToUserName><CreateTime>12</CreateTime>' +
        '<MsgType><![CDATA[transfer_customer_service]]></MsgType><TransInfo><KfAccount><![CDATA[k@x]]></KfAccount></TransInfo>' +
        '<Content><![CDATA[多行\n<b>]]></Content></xml>';
    assert.equal(wx.field(x, 'ToUserName'), 'a');
    assert.equal(wx.field(x, 'CreateTime'), '12');
    assert.equal(wx.field(x, 'KfAccount'), 'k@x');
    assert.equal(wx.field(x, 'Content'), '多行\n<b>');
    assert.equal(wx.field(x, 'Nope'), undefined);
    assert.deepEqual(wx.fieldNames(x), ['ToUserName', 'CreateTime', 'MsgType', 'TransInfo', 'Content']);
});

function pick(d) {
    return { msg: d.msg, appid: d.appid };
}
